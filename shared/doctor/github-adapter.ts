import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import type { DoctorGitHub, GitHubDelivery, OrgHook } from './port';

export interface AppCredentials {
  appId: string | number;
  installationId: string | number;
  privateKey: string;
}

/**
 * The doctor's GitHub reads, made as the App (JWT signed with the key from the App secret): its
 * installation, webhook config and deliveries. The organisation's webhooks need an installation
 * token: one is minted, down-scoped to `organization_hooks: read`, and used for GETs only.
 */
export class GitHubAppDoctorAdapter implements DoctorGitHub {
  private readonly octokit: Octokit;

  private orgReader: Promise<Octokit> | undefined;

  constructor(
    private readonly credentials: AppCredentials,
    private readonly options: { fetch?: typeof globalThis.fetch; baseUrl?: string } = {},
  ) {
    this.octokit = new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: credentials.appId, privateKey: credentials.privateKey },
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
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
      return new Octokit({
        auth: token,
        ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
        ...(this.options.fetch ? { request: { fetch: this.options.fetch } } : {}),
      });
    })();
    return this.orgReader;
  }
}
