import { describe, expect, it } from 'vitest';
import { testPrivateKey } from '../github/testing/fake-github-api';
import { GitHubAppDoctorAdapter } from './github-adapter';
import * as f from './testing/fixtures';

/** A fetch answering the App routes with the recorded shapes, and recording what was asked. */
function githubFetch(root = 'https://api.github.com') {
  const asked: { url: string; auth: string }[] = [];
  const bodies: Record<string, unknown> = {
    '/app/installations/7890123': f.installation,
    '/app/hook/config': f.appHookConfig,
    '/app/hook/deliveries?per_page=10': f.deliveries,
  };
  const fetch = async (url: string | URL, init?: RequestInit) => {
    const path = String(url).startsWith(root) ? String(url).slice(root.length) : `elsewhere: ${url}`;
    asked.push({ url: path, auth: new Headers(init?.headers).get('authorization') ?? '' });
    const body = bodies[path];
    return new Response(JSON.stringify(body ?? { message: 'Not Found' }), {
      status: body ? 200 : 404,
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
});
