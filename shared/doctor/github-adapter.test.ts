import { describe, expect, it } from 'vitest';
import { testPrivateKey } from '../github/testing/fake-github-api';
import { GitHubAppDoctorAdapter } from './github-adapter';
import * as f from './testing/fixtures';

/** A fetch answering the App routes with the recorded shapes, and recording what was asked. */
function githubFetch(root = 'https://api.github.com') {
  const asked: { method: string; url: string; auth: string; body?: unknown }[] = [];
  const bodies: Record<string, unknown> = {
    '/app/installations/7890123': f.installation,
    '/app/hook/config': f.appHookConfig,
    '/app/hook/deliveries?per_page=10': f.deliveries,
    'POST /app/installations/7890123/access_tokens': f.installationToken,
    '/orgs/example-org/hooks?per_page=100': f.orgHooks,
    '/orgs/example-org/hooks/1/deliveries?per_page=10': f.orgHookDeliveries,
  };
  const fetch = async (url: string | URL, init?: RequestInit) => {
    const path = String(url).startsWith(root) ? String(url).slice(root.length) : `elsewhere: ${url}`;
    const method = init?.method ?? 'GET';
    const auth = new Headers(init?.headers).get('authorization') ?? '';
    asked.push({ method, url: path, auth, ...(init?.body ? { body: JSON.parse(String(init.body)) } : {}) });
    const body = bodies[method === 'GET' ? path : `${method} ${path}`];
    return new Response(JSON.stringify(body ?? { message: 'Not Found' }), {
      status: body ? (method === 'POST' ? 201 : 200) : 404,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, asked };
}

describe('GitHubAppDoctorAdapter (as the App: its JWT, read-only routes)', () => {
  const make = (fetch: typeof globalThis.fetch) =>
    new GitHubAppDoctorAdapter(
      { appId: '123456', installationId: '7890123', privateKey: testPrivateKey() },
      { fetch },
    );

  it('reads the installation, the App webhook config and its latest deliveries, with the App JWT', async () => {
    const gh = githubFetch();
    const adapter = make(gh.fetch);
    expect(await adapter.installation()).toMatchObject({ permissions: f.installation.permissions });
    expect(await adapter.appHookConfig()).toMatchObject({ url: f.appHookConfig.url, content_type: 'json' });
    expect(await adapter.appHookDeliveries()).toHaveLength(2);
    expect(gh.asked.map((a) => a.url)).toEqual([
      '/app/installations/7890123',
      '/app/hook/config',
      '/app/hook/deliveries?per_page=10',
    ]);
    for (const a of gh.asked) expect(a.auth).toMatch(/^bearer ey/);
  });

  it("asks a GitHub Enterprise Server at its API URL (a GHES pool's checks), and names its host", async () => {
    const gh = githubFetch('https://ghe.example.com/api/v3');
    const adapter = new GitHubAppDoctorAdapter(
      { appId: '123456', installationId: '7890123', privateKey: testPrivateKey() },
      { fetch: gh.fetch, apiUrl: 'https://ghe.example.com/api/v3' },
    );
    expect(adapter.host).toBe('ghe.example.com');
    expect(await adapter.installation()).toMatchObject({ permissions: f.installation.permissions });
    expect(await adapter.appHookConfig()).toMatchObject({ url: f.appHookConfig.url });
    expect(gh.asked.map((a) => a.url)).toEqual(['/app/installations/7890123', '/app/hook/config']);
    expect(make(githubFetch().fetch).host).toBe('github.com');
  });

  it('reads the organisation webhooks and their deliveries with an installation token down-scoped to organization_hooks: read', async () => {
    const gh = githubFetch();
    const adapter = make(gh.fetch);
    expect(await adapter.orgHooks('example-org')).toEqual(f.orgHooks);
    expect(await adapter.orgHookDeliveries('example-org', 1)).toEqual(f.orgHookDeliveries);
    expect(gh.asked.map((a) => `${a.method} ${a.url}`)).toEqual([
      'POST /app/installations/7890123/access_tokens',
      'GET /orgs/example-org/hooks?per_page=100',
      'GET /orgs/example-org/hooks/1/deliveries?per_page=10',
    ]);
    expect(gh.asked[0]?.body).toEqual({ permissions: { organization_hooks: 'read' } });
    expect(gh.asked[0]?.auth).toMatch(/^bearer ey/);
    for (const a of gh.asked.slice(1)) expect(a.auth).toBe(`token ${f.installationToken.token}`);
  });

  it("rejects with GitHub's status when the organisation webhooks may not be read (403)", async () => {
    const fetch = (async (url: string | URL, init?: RequestInit) => {
      const path = String(url).replace('https://api.github.com', '');
      if (init?.method === 'POST') return Response.json(f.installationToken, { status: 201 });
      return Response.json(path.startsWith('/orgs/') ? f.notAccessibleByIntegration : {}, { status: 403 });
    }) as typeof globalThis.fetch;
    await expect(make(fetch).orgHooks('example-org')).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('Resource not accessible by integration'),
    });
  });

  it("reads a GHES pool's organisation webhooks at its API URL, the token exchange included", async () => {
    const gh = githubFetch('https://ghe.example.com/api/v3');
    const adapter = new GitHubAppDoctorAdapter(
      { appId: '123456', installationId: '7890123', privateKey: testPrivateKey() },
      { fetch: gh.fetch, apiUrl: 'https://ghe.example.com/api/v3/' },
    );
    expect(await adapter.orgHooks('example-org')).toEqual(f.orgHooks);
    expect(await adapter.orgHookDeliveries('example-org', 1)).toEqual(f.orgHookDeliveries);
    expect(gh.asked.map((a) => `${a.method} ${a.url}`)).toEqual([
      'POST /app/installations/7890123/access_tokens',
      'GET /orgs/example-org/hooks?per_page=100',
      'GET /orgs/example-org/hooks/1/deliveries?per_page=10',
    ]);
  });
});
