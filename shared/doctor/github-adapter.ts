import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { apiHostOf, DEFAULT_GITHUB_API_URL } from '../github/scope';
import type { DoctorGitHub, GitHubDelivery } from './port';

export interface AppCredentials {
  appId: string | number;
  installationId: string | number;
  privateKey: string;
}

/**
 * The doctor's GitHub reads, made as the App (JWT signed with the key from the App secret): its
 * installation, webhook config and deliveries. GET only; no installation token is minted. A GHES
 * pool's App lives on its server: `apiUrl` is its REST root (`https://<host>/api/v3`).
 */
export class GitHubAppDoctorAdapter implements DoctorGitHub {
  private readonly octokit: Octokit;
  /** The host asked (`github.com` or the GHES hostname), for the checks' messages. */
  readonly host: string;

  constructor(
    private readonly credentials: AppCredentials,
    options: { fetch?: typeof globalThis.fetch; apiUrl?: string } = {},
  ) {
    const apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/$/, '');
    this.host = apiHostOf(apiUrl);
    this.octokit = new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: credentials.appId, privateKey: credentials.privateKey },
      ...(apiUrl !== DEFAULT_GITHUB_API_URL ? { baseUrl: apiUrl } : {}),
      ...(options.fetch ? { request: { fetch: options.fetch } } : {}),
    });
  }

  async installation() {
    const res = await this.octokit.request('GET /app/installations/{installation_id}', {
      installation_id: Number(this.credentials.installationId),
    });
    return res.data as Awaited<ReturnType<DoctorGitHub['installation']>>;
  }

  async appHookConfig() {
    const res = await this.octokit.request('GET /app/hook/config');
    return res.data as { url?: string; content_type?: string };
  }

  async appHookDeliveries(): Promise<GitHubDelivery[]> {
    const res = await this.octokit.request('GET /app/hook/deliveries', { per_page: 10 });
    return res.data as GitHubDelivery[];
  }
}
