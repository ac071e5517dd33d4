import { describe, expect, it } from 'vitest';
import { synthesizeFleet } from './routing';

describe('simulator routing (from the synthesized FleetStack)', () => {
  const routing = synthesizeFleet({ dryRun: false });
  const entryOf = (id: string) => routing.functions.get(id)?.entry;

  it('finds every fleet function by its handler entry', () => {
    const entries = [...routing.functions.values()].map((f) => f.entry).sort();
    expect(entries).toEqual(
      expect.arrayContaining([
        'functions/dns-sync/handler.ts',
        'functions/dns-reconcile/handler.ts',
        'functions/runner-drain/handler.ts',
        'functions/runner-sweep/handler.ts',
        'functions/runner-job-watch/handler.ts',
        'functions/webhook-ingress/handler.ts',
        'functions/audit-correlate/handler.ts',
      ]),
    );
  });

  it('routes EC2 state changes through a queue to dns-sync with the deployed batching', () => {
    const rule = routing.rules.find((r) =>
      JSON.stringify(r.pattern ?? {}).includes('EC2 Instance State-change Notification'),
    );
    const target = rule?.targets[0];
    expect(target?.kind).toBe('queue');
    const consumer = target?.kind === 'queue' ? routing.consumers.get(target.queue) : undefined;
    expect(entryOf(consumer?.fn ?? '')).toBe('functions/dns-sync/handler.ts');
    expect(consumer?.batchSize).toBeGreaterThan(1);
  });

  it('routes workflow_job events on the custom bus to runner-job-watch, and schedules the sweep', () => {
    const job = routing.rules.find(
      (r) => r.bus !== 'default' && JSON.stringify(r.pattern ?? {}).includes('workflow_job'),
    );
    expect(job && routing.buses.includes(job.bus)).toBe(true);
    expect(job?.targets.map((t) => (t.kind === 'function' ? entryOf(t.fn) : t.queue))).toEqual([
      'functions/runner-job-watch/handler.ts',
    ]);
    const sweep = routing.rules.find((r) =>
      r.targets.some((t) => t.kind === 'function' && entryOf(t.fn) === 'functions/runner-sweep/handler.ts'),
    );
    expect(sweep?.everyMs).toBe(5 * 60_000);
  });
});
