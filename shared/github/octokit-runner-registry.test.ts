import { afterEach, describe, expect, it } from 'vitest';
import { auditedAction } from '../audit/audited-action';
import { AuditWriteError } from '../audit/errors';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { githubCallsOf, recordAwsCalls } from '../aws/call-recorder';
import { ThrottledError } from '../core/errors';
import { GitHubApiError, RunnerBusyError, RunnerListingError } from './errors';
import { createFleetOctokit, OctokitRunnerRegistry } from './octokit-runner-registry';
import { describeRunnerRegistryContract } from './runner-registry.contract';
import { createScopedAppAuth } from './scoped-app-auth';
import { FakeGitHubApi, testPrivateKey } from './testing/fake-github-api';
import { describedFetch } from './testing/openapi';

/** What the fake answered outside GitHub's OpenAPI description during a test: must stay empty. */
const violations: string[] = [];
afterEach(() => {
  const seen = violations.splice(0);
  expect(seen, "the fake's answers hold to api.github.com's OpenAPI description").toEqual([]);
});

const GHES = 'https://ghe.example.com/api/v3';

function setup(
  options: {
    pacing?: boolean;
    repository?: string | undefined;
    enterprise?: string | undefined;
    apiUrl?: string | undefined;
    permissions?: Record<string, 'read' | 'write'>;
  } = {},
) {
  const api = new FakeGitHubApi('acme', {
    ...(options.repository ? { repository: options.repository } : {}),
    ...(options.enterprise ? { enterprise: options.enterprise } : {}),
    ...(options.apiUrl ? { baseUrl: options.apiUrl } : {}),
  });
  const octokit = createFleetOctokit({
    // enterprise runner routes take no installation token (shared/github/scope.ts): a classic token
    credentials: options.enterprise
      ? { token: api.classicToken }
      : { appId: 123, installationId: 456, privateKey: testPrivateKey() },
    fetch: describedFetch(api.fetch, violations, {
      description: options.apiUrl ? 'ghes-3.19' : options.enterprise ? 'ghec' : 'api.github.com',
      ...(options.apiUrl ? { baseUrl: options.apiUrl } : {}),
    }),
    retries: 1,
    retryBaseMs: 1,
    pacing: options.pacing ?? false,
    maxRateLimitWaitSeconds: 0,
    ...(options.apiUrl ? { baseUrl: options.apiUrl } : {}),
    ...(options.permissions
      ? { downScope: { permissions: options.permissions, strategy: createScopedAppAuth } }
      : {}),
  });
  const scope = options.enterprise
    ? { enterprise: options.enterprise }
    : { owner: 'acme', repository: options.repository };
  return { api, registry: new OctokitRunnerRegistry(octokit, scope) };
}

const SCOPES = [
  { name: 'organisation runners', scopeName: 'organisation acme' },
  { name: 'repository runners', repository: 'infra', scopeName: 'acme/infra' },
  { name: 'enterprise runners', enterprise: 'acme-corp', scopeName: 'enterprise acme-corp' },
  { name: 'organisation runners on GHES', apiUrl: GHES, scopeName: 'organisation acme' },
  {
    name: 'enterprise runners on GHES',
    enterprise: 'acme-corp',
    apiUrl: GHES,
    scopeName: 'enterprise acme-corp',
  },
];

for (const { name, scopeName, ...options } of SCOPES)
  describeRunnerRegistryContract(`OctokitRunnerRegistry over a fake GitHub (${name})`, () => {
    const { api, registry } = setup(options);
    return {
      registry,
      scopeName,
      add: (r) => api.add(r),
      failNextListPage: () => {
        api.failNext = 2;
      },
      exhaustRateLimit: () => {
        api.rateLimited = true;
      },
      hitSecondaryRateLimit: () => {
        api.secondaryRateLimited = true;
      },
    };
  });

describe('OctokitRunnerRegistry on GitHub Enterprise Server', () => {
  it('sends every request to the GHES API base, the App token exchange of auth-app included', async () => {
    const { api, registry } = setup({
      apiUrl: GHES,
      permissions: { organization_self_hosted_runners: 'read' },
    });
    const id = api.add({ name: 'r' });
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    await registry.listRunners();
    expect(api.requests.map((r) => r.url)).toEqual([
      'https://ghe.example.com/api/v3/app/installations/456/access_tokens',
      `https://ghe.example.com/api/v3/orgs/acme/actions/runners/${id}`,
      'https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100',
    ]);
  });

  it('follows pagination at the GHES base: 250 runners = 3 requests there', async () => {
    const { api, registry } = setup({ apiUrl: GHES });
    for (let i = 0; i < 250; i++) api.add({ name: `r-${i}` });
    expect(await registry.listRunners()).toHaveLength(250);
    const pages = api.requests.filter((r) => r.path.includes('/actions/runners'));
    expect(pages.map((p) => p.url)).toEqual([
      'https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100',
      'https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100&page=2',
      'https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100&page=3',
    ]);
  });
});

describe('OctokitRunnerRegistry for enterprise runners', () => {
  it('uses the enterprise endpoints with the classic token', async () => {
    const { api, registry } = setup({ enterprise: 'acme-corp' });
    const id = api.add({ name: 'r' });
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    expect(api.requests.at(-1)).toMatchObject({
      path: `/enterprises/acme-corp/actions/runners/${id}`,
      authorization: `token ${api.classicToken}`,
    });
  });

  it('is refused by GitHub with an App installation token (the routes take none): a 403, never a list', async () => {
    const api = new FakeGitHubApi('acme', { enterprise: 'acme-corp' });
    api.add({ name: 'r' });
    const octokit = createFleetOctokit({
      credentials: { appId: 123, installationId: 456, privateKey: testPrivateKey() },
      fetch: api.fetch,
      retries: 0,
      pacing: false,
    });
    const err = await new OctokitRunnerRegistry(octokit, { enterprise: 'acme-corp' })
      .listRunners()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerListingError);
    expect(String((err as Error).cause)).toMatch(/403 Resource not accessible by integration/);
  });
});

describe('OctokitRunnerRegistry at the HTTP boundary', () => {
  it('authenticates as the App installation once and sends the installation token', async () => {
    const { api, registry } = setup();
    api.add({ name: 'r' });
    await registry.listRunners();
    await registry.listRunners();
    expect(api.tokenExchanges).toBe(1);
    const runnerCalls = api.requests.filter((r) => r.path.includes('/actions/runners'));
    expect(runnerCalls.every((r) => r.authorization === 'token ghs_fake_installation_token')).toBe(true);
  });

  it('asks for 100 per page and follows Link headers: 250 runners = 3 requests', async () => {
    const { api, registry } = setup();
    for (let i = 0; i < 250; i++) api.add({ name: `r-${i}` });
    await registry.listRunners();
    const pages = api.requests.filter(
      (r) => r.method === 'GET' && r.path.startsWith('/orgs/acme/actions/runners'),
    );
    expect(pages.map((p) => p.path)).toEqual([
      '/orgs/acme/actions/runners?per_page=100',
      '/orgs/acme/actions/runners?per_page=100&page=2',
      '/orgs/acme/actions/runners?per_page=100&page=3',
    ]);
  });

  it('asks GitHub to filter by name (?name=), one request', async () => {
    const { api, registry } = setup();
    for (let i = 0; i < 250; i++) api.add({ name: `r-${i}` });
    await registry.findRunnersByName('ci-i-0abc12345678');
    const pages = api.requests.filter((r) => r.path.startsWith('/orgs/acme/actions/runners'));
    expect(pages.map((p) => p.path)).toEqual([
      '/orgs/acme/actions/runners?name=ci-i-0abc12345678&per_page=100',
    ]);
  });

  it('dedupes by id a runner repeated across pages (an insertion shifted the live list mid-listing)', async () => {
    const { api, registry } = setup();
    for (let i = 0; i < 150; i++) api.add({ name: `r-${i}` });
    api.beforePage = (page) => {
      // a runner registered at the front while page 2 is being fetched: r-99 is served again
      const first = api.runners[0];
      if (page === 2 && first) api.runners.unshift({ ...first, id: 9_999, name: 'new-runner' });
    };
    const runners = await registry.listRunners();
    expect(runners.filter((r) => r.name === 'r-99')).toHaveLength(1);
    expect(new Set(runners.map((r) => r.id)).size).toBe(runners.length);
  });

  it('reads a 422 as busy only when GitHub says the runner is running a job', async () => {
    const { api, registry } = setup();
    const id = api.add({ name: 'r' });
    api.nextDeleteAnswer = { status: 422, message: 'Validation Failed' };
    const err = await registry.deleteRunner(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubApiError);
    expect(err).not.toBeInstanceOf(RunnerBusyError);
    expect((err as GitHubApiError).status).toBe(422);
    for (const r of api.runners) r.busy = true;
    await expect(registry.deleteRunner(id)).rejects.toBeInstanceOf(RunnerBusyError);
    // a 4xx answer is final: each DELETE was sent once, never retried
    expect(api.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
  });

  it('retries a 5xx once before failing', async () => {
    const { api, registry } = setup();
    const id = api.add({ name: 'r' });
    api.failNext = 1;
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
  });

  it('records every GitHub call (route, status, x-github-request-id) for the audit record', async () => {
    const { api, registry } = setup();
    const id = api.add({ name: 'busy', busy: true });
    const { calls } = await recordAwsCalls(async () => {
      await registry.getRunner(id);
      await registry.deleteRunner(id).catch(() => undefined);
      return 1;
    }).then((r) => ({ calls: r.githubCalls }));
    expect(calls.map((c) => [c.route, c.status])).toEqual([
      ['GET /orgs/{org}/actions/runners/{runner_id}', 200],
      ['DELETE /orgs/{org}/actions/runners/{runner_id}', 422],
    ]);
    expect(calls[0]?.requestId).toMatch(/^REQ-/);
    expect(githubCallsOf(new Error('x'))).toEqual([]);
  });

  it('with pacing on, gives up on a rate limit whose reset is beyond the allowed wait', async () => {
    const { api, registry } = setup({ pacing: true });
    api.add({ name: 'r' });
    api.rateLimited = true;
    await expect(registry.getRunner(1)).rejects.toMatchObject({ name: 'ThrottledError' });
  });

  it('uses the repository endpoints for repository-level runners', async () => {
    const { api, registry } = setup({ repository: 'infra' });
    const id = api.add({ name: 'r' });
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    expect(api.requests.at(-1)?.path).toBe(`/repos/acme/infra/actions/runners/${id}`);
  });

  it('takes a secondary rate limit answered 403 without retry-after as a throttle, not a hard error', async () => {
    const { api, registry } = setup({ pacing: true });
    const id = api.add({ name: 'r' });
    api.secondaryRateLimited = true;
    const err = await registry.getRunner(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    // GitHub: without retry-after, wait at least a minute
    expect((err as ThrottledError).retryAfterMs).toBe(60_000);
    const del = await registry.deleteRunner(id).catch((e: unknown) => e);
    expect(del).toBeInstanceOf(ThrottledError);
  });

  it('asks GitHub for a token down-scoped to the permissions given, and sends that token', async () => {
    const { api, registry } = setup({ permissions: { organization_self_hosted_runners: 'read' } });
    const id = api.add({ name: 'r' });
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    expect(await registry.findRunnersByName('r')).toHaveLength(1);
    expect(api.tokenRequests).toEqual([
      { installationId: 456, permissions: { organization_self_hosted_runners: 'read' } },
    ]);
    const runnerCalls = api.requests.filter((r) => r.path.includes('/actions/runners'));
    expect(runnerCalls.map((r) => r.authorization)).toEqual([
      'token ghs_fake_scoped_token_1',
      'token ghs_fake_scoped_token_1',
    ]);
    // the read-only token cannot remove anything: GitHub answers 403
    await expect(registry.deleteRunner(id)).rejects.toMatchObject({ status: 403 });
    expect(api.runners).toHaveLength(1);
  });
});

describe('OctokitRunnerRegistry: intent before act (at the HTTP boundary)', () => {
  const ctx = {
    function: 'runner-sweep',
    trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
    mode: 'live' as const,
  };
  const what = { action: 'runner.deregister', subject: { runnerName: 'r-1' } };

  it('never sends the DELETE (or a label change) when the intent record cannot be written', async () => {
    const { api, registry } = setup();
    const runnerId = api.add({ name: 'r-1' });
    const sink = new InMemoryAuditSink();
    sink.failNextWrites(1);
    const err = await auditedAction(sink, ctx, what, async () => {
      await registry.getRunner(runnerId);
      await registry.cordonRunner(runnerId, ['fleetwarden-draining']).catch(() => undefined);
      await registry.deleteRunner(runnerId);
      return { decision: 'acted', reason: 'deregistered', result: undefined };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    const sent = api.requests.filter((r) => r.path.includes('/actions/runners/'));
    expect(sent.map((r) => r.method)).toEqual(['GET']);
    expect(sink.all()).toEqual([expect.objectContaining({ decision: 'failed' })]);
  });

  it('writes the intent before the DELETE, then the outcome with the GitHub calls', async () => {
    const { api, registry } = setup();
    const runnerId = api.add({ name: 'r-1' });
    const sink = new InMemoryAuditSink();
    const seen: string[] = [];
    const logging = {
      write: async (record: Parameters<InMemoryAuditSink['write']>[0]) => {
        seen.push(
          `${record.decision} after ${api.requests.filter((r) => r.method === 'DELETE').length} DELETE`,
        );
        return sink.write(record);
      },
    };
    await auditedAction(logging, ctx, what, async () => {
      await registry.deleteRunner(runnerId);
      return { decision: 'acted', reason: 'deregistered', result: undefined };
    });
    expect(seen).toEqual(['intended after 0 DELETE', 'acted after 1 DELETE']);
    expect(sink.all()[0]?.githubCalls.map((c) => c.method)).toEqual(['DELETE']);
  });
});
