import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RecordChange } from '../../shared/dns/port';
import type { RunnerRegistry } from '../../shared/github/port';
import { runCli } from '../program';
import { DEFAULT_SIM_OPTIONS } from '../simulate/scenario';
import { simulate } from '../simulate/simulate';
import { type HandlerOverrides, type World, wireFunction } from '../simulate/world';
import { testDeps } from '../test-deps';
import { command, simulateCommandWith } from './simulate';

describe('fleetwarden simulate', () => {
  it('runs the default fleet, holds every invariant and writes summary, timeline and HTML', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fw-sim-'));
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out], t.deps, [command]);
    expect(t.stdout()).toContain('ok   no ghost runner');
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.invariants.every((i: { ok: boolean }) => i.ok)).toBe(true);
    expect(summary.counts.runnersDeregistered).toBeGreaterThan(0);
    // GitHub pagination and rate limits come into play (small pages, a budget the bursts spend)
    expect(summary.apiCalls['github:list-runners-pages']).toBeGreaterThan(
      summary.invocations['runner-sweep'],
    );
    expect(summary.apiCalls['github:rate-limited']).toBeGreaterThan(0);
    // evidence: every record with AWS calls was matched to its (simulated) CloudTrail events
    expect(summary.counts.auditCorrelationResolved).toBeGreaterThan(0);
    expect(summary.counts.auditCorrelationPending).toBe(0);
    expect(summary.counts.auditCorrelationUnresolved).toBe(0);
    expect(summary.notSimulated).toEqual([]);
    expect(summary.convergenceSeconds).not.toBeNull();
    expect(JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')).length).toBe(
      summary.counts.auditRecords,
    );
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('All invariants hold');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(t.stderr()).toMatch(/t\+10m/);
  });

  it('holds every invariant under chaos with a fixed seed (drops, duplicates, reordering, API errors)', async () => {
    const { summary } = await simulate({
      ...DEFAULT_SIM_OPTIONS,
      seed: 7,
      drop: 0.1,
      duplicate: 0.2,
      reorder: 0.3,
      errorRate: 0.05,
    });
    expect(summary.delivery.dropped).toBeGreaterThan(0);
    expect(summary.delivery.duplicated).toBeGreaterThan(0);
    expect(summary.delivery.injectedErrors).toBeGreaterThan(0);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
  });

  it('npm start -- --adversarial: every fault on, with the default seed, and every invariant holds', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fw-sim-adversarial-'));
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'simulate', '--adversarial', '--out', out], t.deps, [
      command,
    ]);
    // in the order of the simulations' list (cli/simulate/faults.ts, then functions/simulations.ts)
    const listed = /; faults ([a-z0-9 -]+)\n/.exec(t.stderr())?.[1]?.split(' ');
    expect(listed?.sort()).toEqual(
      'forged-messages foreign-hooks spoofed-tags audit-outage ec2-flapping webhook-replays form-encoded foreign-fleet-runners name-claimants stale-replays warm-pool-scale-in lost-lifecycle-events github-delete-errors foreign-orphan-volumes reattached-volumes hand-edited-dns'
        .split(' ')
        .sort(),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.seed).toBe(42);
    expect(summary.invariants.filter((i: { ok: boolean }) => !i.ok)).toEqual([]);
    expect(code).toBe(0);
  });

  it('is deterministic for a seed', async () => {
    const opts = { ...DEFAULT_SIM_OPTIONS, seed: 11, drop: 0.05, duplicate: 0.1, reorder: 0.2 };
    const a = (await simulate(opts)).summary;
    const b = (await simulate(opts)).summary;
    expect({ ...a, wallMs: 0 }).toEqual({ ...b, wallMs: 0 });
  });

  it('exits 1 and names the broken invariant when a handler ignores ownership', async () => {
    const brokenDnsSync = {
      'functions/dns-sync/index.ts': (w: Parameters<typeof wireFunction>[1], env: Record<string, string>) => {
        const real = wireFunction({ logicalId: 'x', entry: 'functions/dns-sync/index.ts', env }, w) as (
          e: unknown,
          c: unknown,
        ) => Promise<unknown>;
        return async (event: unknown, context: unknown) => {
          const res = await real(event, context);
          // "cleanup" that ignores the ownership markers: every A record without a marker goes
          const zone = env.HOSTED_ZONE_ID ?? '';
          const records = await w.route53.listRecordSets(zone);
          const markers = new Set(
            records.filter((r) => r.type === 'TXT').map((r) => r.name.replace(/^_fleetwarden\./, '')),
          );
          const changes: RecordChange[] = records
            .filter((r) => r.type === 'A' && !markers.has(r.name))
            .map((record) => ({ action: 'DELETE', record }));
          if (changes.length > 0) await w.route53.changeRecordSets(zone, changes);
          return res;
        };
      },
    };
    const out = mkdtempSync(join(tmpdir(), 'fw-sim-broken-'));
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out], t.deps, [
      simulateCommandWith(brokenDnsSync),
    ]);
    expect(code).toBe(1);
    expect(t.stdout()).toMatch(
      /FAIL nothing outside the blast radius changed \(\d+ violations? in \d+ checked\)\n\s+.*legacy\.fleet\.example\.internal/,
    );
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('INVARIANT BROKEN');
  });

  it("exits 1 when a drain lets a busy runner's instance go (a job killed by the fleet)", async () => {
    // a drain that completes the terminate hook at once, blind to busy runners: it still audits
    // every step, and GitHub still refuses to delete a busy runner, so only the ground truth of
    // the jobs shows what it did
    const blindDrain = {
      'functions/runner-drain/index.ts': (w: World, env: Record<string, string>) => {
        const registry: RunnerRegistry = {
          listRunners: async () => (await w.registry.listRunners()).filter((r) => !r.busy),
          getRunner: (id) => w.registry.getRunner(id),
          deleteRunner: (id) => w.registry.deleteRunner(id),
        };
        const blind = Object.create(w, { registry: { value: registry } }) as World;
        return wireFunction(
          { logicalId: 'x', entry: 'functions/runner-drain/index.ts', env },
          blind,
        ) as ReturnType<NonNullable<HandlerOverrides[string]>>;
      },
    };
    const out = mkdtempSync(join(tmpdir(), 'fw-sim-blind-drain-'));
    const t = testDeps();
    // seed 3: at seed 42 no scaled-in runner happens to be busy when its hook starts (since the
    // simulated GitHub gives busy runners no job, the draws moved); seeds 1-3 each kill 2-4 jobs
    const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out, '--seed', '3'], t.deps, [
      simulateCommandWith(blindDrain),
    ]);
    expect(t.stdout()).toMatch(
      /FAIL no running job killed by the fleet \(\d+ violations?\)\n\s+job \d+ on runner ci-i-\w+ was killed: the fleet completed the terminate lifecycle action of i-\w+/,
    );
    expect(code).toBe(1);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.counts.jobsKilledByTheFleet).toBeGreaterThan(0);
  });

  it('npm start --json: stdout is exactly the summary JSON, and no Powertools log line is printed', () => {
    // a real process, as `npm start` runs it: handler logs would go to the process's own stdout
    const out = mkdtempSync(join(tmpdir(), 'fw-sim-json-'));
    const env = { ...process.env };
    delete env.POWERTOOLS_LOG_LEVEL;
    delete env.POWERTOOLS_METRICS_DISABLED;
    delete env.VITEST; // as outside the test runner
    const res = spawnSync(
      'npx',
      [
        'tsx',
        'cli/main.ts',
        'simulate',
        '--json',
        '--out',
        out,
        '--instances',
        '6',
        '--duration',
        '10',
        '--settle',
        '5',
      ],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), env, encoding: 'utf8' },
    );
    expect(res.stderr).toContain('simulate: seed 42');
    const summary = JSON.parse(res.stdout);
    expect(summary.seed).toBe(42);
    expect(summary.counts.instancesLaunched).toBe(6);
    const logLines = `${res.stdout}\n${res.stderr}`
      .split('\n')
      .filter((l) => /"level"\s*:|"_aws"\s*:|"service"\s*:\s*"(service_undefined|fleetwarden)/.test(l));
    expect(logLines).toEqual([]);
    expect(res.status).toBe(0);
  });

  it('refuses a chaos probability outside 0..1 with a usage error', async () => {
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'simulate', '--drop', '1.5'], t.deps, [command])).toBe(2);
    expect(t.stderr()).toMatch(/--drop must be a probability from 0 to 1, got "1.5"/);
  });
});
