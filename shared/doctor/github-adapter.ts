import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { apiHostOf, DEFAULT_GITHUB_API_URL } from '../github/scope';
import type { DoctorGitHub, GitHubDelivery, OrgHook } from './port';

export interface AppCredentials {
  appId: string | number;
  installationId: string | number;
  privateKey: string;
}

/**
 * The doctor's GitHub reads, made as the App (JWT signed with the key from the App secret): its
 * installation, webhook config and deliveries. The organisation's webhooks need an installation
 * token: one is minted, down-scoped to `organization_hooks: read`, and used for GETs only. A GHES
 * pool's App lives on its server: `apiUrl` is its REST root (`https://<host>/api/v3`), for the App's
 * reads, the token exchange and the organisation's webhooks alike.
 */
export class GitHubAppDoctorAdapter implements DoctorGitHub {
  private readonly octokit: Octokit;
  /** The host asked (`github.com` or the GHES hostname), for the checks' messages. */
  readonly host: string;

  private orgReader: Promise<Octokit> | undefined;
  /** The REST root every request goes to (`https://api.github.com` or a GHES server's). */
  private readonly apiUrl: string;

  constructor(
    private readonly credentials: AppCredentials,
    private readonly options: { fetch?: typeof globalThis.fetch; apiUrl?: string } = {},
  ) {
    this.apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/$/, '');
    this.host = apiHostOf(this.apiUrl);
    this.octokit = new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: credentials.appId, privateKey: credentials.privateKey },
      ...this.octokitOptions(),
    });
  }

  /** The API root (when not api.github.com) and the test's fetch, for both Octokits. */
  private octokitOptions(): { baseUrl?: string; request?: { fetch: typeof globalThis.fetch } } {
    return {
      ...(this.apiUrl !== DEFAULT_GITHUB_API_URL ? { baseUrl: this.apiUrl } : {}),
      ...(this.options.fetch ? { request: { fetch: this.options.fetch } } : {}),
    };
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

  async orgHooks(org: string): Promise<OrgHook[]> {
    const octokit = await this.orgHookReader();
    const hooks: OrgHook[] = [];
    for (let page = 1; ; page++) {
      const res = await octokit.request('GET /orgs/{org}/hooks', {
        org,
        per_page: 100,
        ...(page > 1 ? { page } : {}),
      });
      hooks.push(...(res.data as OrgHook[]));
      if (res.data.length < 100) return hooks;
    }
  }

  async orgHookDeliveries(org: string, hookId: number): Promise<GitHubDelivery[]> {
    const octokit = await this.orgHookReader();
    const res = await octokit.request('GET /orgs/{org}/hooks/{hook_id}/deliveries', {
      org,
      hook_id: hookId,
      per_page: 10,
    });
    return res.data as GitHubDelivery[];
  }

  /** An Octokit with an installation token that may only read the organisation's webhooks. */
  private orgHookReader(): Promise<Octokit> {
    this.orgReader ??= (async () => {
      const { token } = (await this.octokit.auth({
        type: 'installation',
        installationId: Number(this.credentials.installationId),
        permissions: { organization_hooks: 'read' },
      })) as { token: string };
      return new Octokit({ auth: token, ...this.octokitOptions() });
    })();
    return this.orgReader;
  }
}
