import { describe, expect, it } from 'vitest';
import { auditedAction } from '../audit/audited-action';
import { AuditWriteError } from '../audit/errors';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { githubCallsOf, recordAwsCalls } from '../aws/call-recorder';
import { GitHubApiError, RunnerBusyError } from './errors';
import { createFleetOctokit, OctokitRunnerRegistry } from './octokit-runner-registry';
import { describeRunnerRegistryContract } from './runner-registry.contract';
import { FakeGitHubApi, testPrivateKey } from './testing/fake-github-api';

function setup(options: { pacing?: boolean } = {}) {
  const api = new FakeGitHubApi('acme');
  const octokit = createFleetOctokit({
    credentials: { appId: 123, installationId: 456, privateKey: testPrivateKey() },
    fetch: api.fetch,
    retries: 1,
    retryBaseMs: 1,
    pacing: options.pacing ?? false,
    maxRateLimitWaitSeconds: 0,
  });
  return { api, registry: new OctokitRunnerRegistry(octokit, { owner: 'acme' }) };
}

describeRunnerRegistryContract('OctokitRunnerRegistry over a fake api.github.com', () => {
  const { api, registry } = setup();
  return {
    registry,
    add: (r) => api.add(r),
    // the retry plugin retries a 5xx once: fail both attempts
    failNextListPage: () => {
      api.failNext = 2;
    },
    exhaustRateLimit: () => {
      api.rateLimited = true;
    },
  };
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
    const api = new FakeGitHubApi('acme');
    const octokit = createFleetOctokit({
      credentials: { appId: 1, installationId: 2, privateKey: testPrivateKey() },
      fetch: api.fetch,
      pacing: false,
    });
    await new OctokitRunnerRegistry(octokit, { owner: 'acme', repository: 'infra' }).getRunner(7);
    expect(api.requests.at(-1)?.path).toBe('/repos/acme/infra/actions/runners/7');
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
