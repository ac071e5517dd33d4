import { describe, expect, it } from 'vitest';
import { FakeGitHubApi } from './fake-github-api';
import { describedFetch } from './openapi';

const API = 'https://api.github.com';

/**
 * Call the fake as Octokit would (an installation token first, then the routes), every request and
 * response held to GitHub's REST description.
 */
function client(api: FakeGitHubApi) {
  const violations: string[] = [];
  const f = describedFetch(api.fetch, violations);
  let installationToken: string | undefined;
  const send = async (method: string, path: string, body: unknown, token: string | undefined) => {
    const res = await f(`${API}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `token ${token}` } : {}),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    if (path.endsWith('/access_tokens')) return send(method, path, body, undefined);
    installationToken ??= (await send('POST', '/app/installations/456/access_tokens', undefined, undefined))
      .body.token as string;
    return send(method, path, body, token ?? installationToken);
  };
  return { call, violations };
}

describe.each([
  ['organisation', undefined, '/orgs/acme/actions/runners'],
  ['repository', 'infra', '/repos/acme/infra/actions/runners'],
])("FakeGitHubApi (%s scope) answers as GitHub's OpenAPI description says", (_scope, repository, base) => {
  it('serves every runner route fleetwarden calls, each answer described', async () => {
    const api = new FakeGitHubApi('acme', repository ? { repository } : {});
    const { call, violations } = client(api);
    const idle = api.add({ name: 'idle', labels: ['self-hosted', 'linux', 'gpu'] });
    const busy = api.add({ name: 'busy', busy: true });
    for (let i = 0; i < 3; i++) api.add({ name: `r-${i}` });

    const page1 = await call('GET', `${base}?per_page=2`);
    expect(page1).toMatchObject({ status: 200, body: { total_count: 5 } });
    expect(page1.body.runners).toHaveLength(2);
    expect(page1.headers.get('link')).toContain(`${API}${base}?per_page=2&page=2`);
    expect((await call('GET', `${base}?name=idle&per_page=100`)).body.runners).toHaveLength(1);
    expect(await call('GET', `${base}/${idle}`)).toMatchObject({ status: 200, body: { name: 'idle' } });
    expect(await call('PUT', `${base}/${idle}/labels`, { labels: ['fleetwarden-draining'] })).toMatchObject({
      status: 200,
    });
    expect((await call('DELETE', `${base}/${busy}`)).status).toBe(422);
    api.nextDeleteAnswer = { status: 422, message: 'Validation Failed' };
    expect((await call('DELETE', `${base}/${idle}`)).status).toBe(422);
    expect((await call('DELETE', `${base}/${idle}`)).status).toBe(204);
    expect((await call('DELETE', `${base}/${idle}`)).status).toBe(404);
    expect((await call('GET', `${base}/${idle}`)).status).toBe(404);
    expect((await call('PUT', `${base}/${idle}/labels`, { labels: ['x'] })).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('answers rate limits and server errors in the described error shapes', async () => {
    const api = new FakeGitHubApi('acme', repository ? { repository } : {});
    const { call, violations } = client(api);
    const id = api.add({ name: 'r' });
    api.failNext = 1;
    expect((await call('GET', `${base}/${id}`)).status).toBe(502);
    api.rateLimited = true;
    const primary = await call('GET', `${base}/${id}`);
    expect(primary.status).toBe(403);
    expect(primary.headers.get('x-ratelimit-remaining')).toBe('0');
    api.rateLimited = false;
    api.secondaryRateLimited = true;
    const secondary = await call('GET', `${base}/${id}`);
    expect(secondary.status).toBe(403);
    expect(secondary.body.message).toMatch(/secondary rate limit/);
    expect(secondary.headers.get('retry-after')).toBeNull();
    expect(secondary.headers.get('x-ratelimit-remaining')).not.toBe('0');
    expect(violations).toEqual([]);
  });
});

describe('FakeGitHubApi installation tokens', () => {
  it('issues a token for the permissions asked (body described), and refuses more than the installation has', async () => {
    const api = new FakeGitHubApi('acme', {
      installationPermissions: { organization_self_hosted_runners: 'write' },
    });
    const { call, violations } = client(api);
    const scoped = await call('POST', '/app/installations/456/access_tokens', {
      permissions: { organization_self_hosted_runners: 'read' },
    });
    expect(scoped).toMatchObject({
      status: 201,
      body: { permissions: { organization_self_hosted_runners: 'read' } },
    });
    expect(api.tokenRequests).toEqual([
      { installationId: 456, permissions: { organization_self_hosted_runners: 'read' } },
    ]);
    const more = await call('POST', '/app/installations/456/access_tokens', {
      permissions: { administration: 'read' },
    });
    expect(more.status).toBe(422);
    expect(violations).toEqual([]);
  });

  it('refuses a write with a read-only token (403 "Resource not accessible by integration")', async () => {
    const api = new FakeGitHubApi('acme');
    const { call, violations } = client(api);
    const id = api.add({ name: 'r' });
    const token = (
      await call('POST', '/app/installations/456/access_tokens', {
        permissions: { organization_self_hosted_runners: 'read' },
      })
    ).body.token as string;
    expect((await call('GET', `/orgs/acme/actions/runners/${id}`, undefined, token)).status).toBe(200);
    const del = await call('DELETE', `/orgs/acme/actions/runners/${id}`, undefined, token);
    expect((await call('GET', `/orgs/acme/actions/runners/${id}`, undefined, 'ghs_unknown')).status).toBe(
      401,
    );
    expect(del).toMatchObject({ status: 403, body: { message: 'Resource not accessible by integration' } });
    expect(api.runners).toHaveLength(1);
    expect(violations).toEqual([]);
  });
});

describe('FakeGitHubApi as a GHES, and for enterprise runners', () => {
  it('answers at its GHES root only, Link headers included (held to the ghes-3.19 description)', async () => {
    const root = 'https://ghe.example.com/api/v3';
    const api = new FakeGitHubApi('acme', { baseUrl: root });
    const violations: string[] = [];
    const f = describedFetch(api.fetch, violations, { description: 'ghes-3.19', baseUrl: root });
    const token = (
      (await (await f(`${root}/app/installations/456/access_tokens`, { method: 'POST' })).json()) as {
        token: string;
      }
    ).token;
    for (let i = 0; i < 3; i++) api.add({ name: `r-${i}` });
    const page = await f(`${root}/orgs/acme/actions/runners?per_page=2`, {
      headers: { authorization: `token ${token}` },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('link')).toContain(`<${root}/orgs/acme/actions/runners?per_page=2&page=2>`);
    const elsewhere = await api.fetch(`${API}/orgs/acme/actions/runners`, {
      headers: { authorization: `token ${token}` },
    });
    expect(elsewhere.status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('refuses an App installation token on enterprise runner routes and serves the classic token', async () => {
    const api = new FakeGitHubApi('acme', { enterprise: 'acme-corp' });
    const violations: string[] = [];
    const f = describedFetch(api.fetch, violations, { description: 'ghec' });
    const id = api.add({ name: 'r' });
    const token = (
      (await (await f(`${API}/app/installations/456/access_tokens`, { method: 'POST' })).json()) as {
        token: string;
      }
    ).token;
    const asApp = await f(`${API}/enterprises/acme-corp/actions/runners/${id}`, {
      headers: { authorization: `token ${token}` },
    });
    expect(asApp.status).toBe(403);
    const asClassic = await f(`${API}/enterprises/acme-corp/actions/runners/${id}`, {
      headers: { authorization: `token ${api.classicToken}` },
    });
    expect(asClassic.status).toBe(200);
    expect(violations).toEqual([]);
  });
});
