import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { synthesizeFleet } from './routing';
import { DEFAULT_SIM_OPTIONS, T0 } from './scenario';
import { simulate } from './simulate';

describe('simulator engine settings come from the synthesized stack', () => {
  const routing = synthesizeFleet({ dryRun: false });
  const drainQueue = [...routing.consumers.entries()].find(
    ([, c]) => routing.functions.get(c.fn)?.entry === 'functions/runner-drain/index.ts',
  )?.[0] as string;

  it("redelivers a failed message after the queue's visibility timeout, and dead-letters it after its maxReceiveCount", async () => {
    const settings = routing.queues.get(drainQueue);
    expect(settings?.maxReceiveCount).toBeGreaterThan(1);
    const receives = new Map<string, number[]>();
    let now = () => 0;
    const { engine } = await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 9,
        settleMinutes: 90,
        overrides: {
          // a drain that always fails: every message goes back to the queue
          'functions/runner-drain/index.ts': (w) => {
            now = () => w.clock.now;
            return async (event) => {
              for (const r of (event as SQSEvent).Records)
                receives.set(r.messageId, [...(receives.get(r.messageId) ?? []), now()]);
              throw new Error('drain down');
            };
          },
        },
      },
      routing,
    );
    expect(receives.size).toBeGreaterThan(0);
    // runner-drain's look arrives every minute: the last ticks' messages are still being retried
    // when the run ends; every message first received in time had all its receives
    const visibility = settings?.visibilityTimeoutMs ?? Number.NaN;
    const max = settings?.maxReceiveCount ?? -1;
    const end = Math.max(...[...receives.values()].flat());
    const settled = [...receives.values()].filter((t) => (t[0] as number) + max * (visibility + 5_000) < end);
    expect(settled.length).toBeGreaterThan(receives.size / 2);
    for (const times of settled) {
      expect(times).toHaveLength(max);
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] as number) - (times[i - 1] as number);
        expect(gap).toBeGreaterThanOrEqual(settings?.visibilityTimeoutMs ?? Number.NaN);
        expect(gap).toBeLessThan((settings?.visibilityTimeoutMs ?? 0) + 5_000);
      }
    }
    expect(engine.stats.deadLettered['runner-drain']).toBe(
      [...receives.values()].filter((t) => t.length === max).length,
    );
    expect(engine.stats.deadLettered['runner-drain']).toBeGreaterThanOrEqual(settled.length);
  });

  it("holds scaled-in instances with the template's lifecycle hook (name and heartbeat timeout)", async () => {
    const custom = {
      ...routing,
      lifecycleHooks: routing.lifecycleHooks.map((h) => ({
        ...h,
        name: 'custom-drain',
        heartbeatTimeoutMs: 120_000,
      })),
    };
    const { engine } = await simulate({ ...DEFAULT_SIM_OPTIONS, instances: 9 }, custom);
    expect(engine.hooks.length).toBeGreaterThan(0);
    for (const h of engine.hooks) {
      expect(h.hookName).toBe('custom-drain');
      expect(h.heartbeatTimeoutMs).toBe(120_000);
    }
  });

  it("retries a failed asynchronous invocation as the function's EventInvokeConfig says, then dead-letters it", async () => {
    const reconcile = [...routing.functions.values()].find(
      (f) => f.entry === 'functions/dns-reconcile/index.ts',
    );
    const schedule = routing.rules.find((r) =>
      r.targets.some((t) => t.kind === 'function' && t.fn === reconcile?.logicalId),
    );
    const calls: number[] = [];
    const { engine } = await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 3,
        overrides: {
          'functions/dns-reconcile/index.ts': (w) => async () => {
            calls.push(w.clock.now);
            throw new Error('reconcile down');
          },
        },
      },
      routing,
    );
    const runMs = (DEFAULT_SIM_OPTIONS.durationMinutes + DEFAULT_SIM_OPTIONS.settleMinutes) * 60_000;
    const fires = Math.floor(runMs / (schedule?.everyMs ?? Number.NaN));
    expect(reconcile?.asyncRetries).toBeTypeOf('number');
    // every fire that had time for its retries before the end
    expect(engine.stats.deadLettered['dns-reconcile']).toBeGreaterThanOrEqual(fires - 1);
    expect(calls.length).toBeGreaterThanOrEqual((fires - 1) * (1 + (reconcile?.asyncRetries ?? 0)));
    expect(calls.length).toBeLessThanOrEqual(fires * (1 + (reconcile?.asyncRetries ?? 0)));
  });

  it("names every function by its folder, whether its entry is handler.ts or a definition's index.ts", async () => {
    const { engine } = await simulate(
      { ...DEFAULT_SIM_OPTIONS, instances: 3, durationMinutes: 5, settleMinutes: 0 },
      routing,
    );
    const names = [...routing.functions.keys()].map((fn) => engine.entryOf(fn));
    expect(names).toContain('runner-sweep');
    for (const name of names) expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('gives every invocation its own request id (handlers key their audit records on it)', async () => {
    const ids: string[] = [];
    const record = () => async (_event: unknown, context: { awsRequestId: string }) => {
      ids.push(context.awsRequestId);
    };
    await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 3,
        overrides: {
          'functions/dns-reconcile/index.ts': record,
          'functions/runner-sweep/index.ts': record,
        },
      },
      routing,
    );
    expect(ids.length).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("tells an observer of every rule delivery when it happens: duplicates included, drops excluded, whatever the queue's batching", async () => {
    const seen: Array<{ entry: string; id: string; at: number }> = [];
    const received = new Map<string, { id: string; at: number }>();
    const { engine } = await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 9,
        drop: 0.2,
        duplicate: 0.3,
        reorder: 0.3,
        onDelivery: (d, at) => {
          seen.push({ entry: d.entry, id: String((d.event as { id: string }).id), at });
        },
        overrides: {
          // records each message on its first receive (the queue batches them)
          'functions/dns-sync/index.ts': (w) => async (event) => {
            for (const r of (event as SQSEvent).Records)
              if (!received.has(r.messageId))
                received.set(r.messageId, { id: (JSON.parse(r.body) as { id: string }).id, at: w.clock.now });
            return { batchItemFailures: [] };
          },
        },
      },
      routing,
    );
    expect(engine.stats.dropped).toBeGreaterThan(0);
    expect(engine.stats.duplicated).toBeGreaterThan(0);
    expect(seen).toHaveLength(engine.stats.deliveries);
    const toSync = seen.filter((d) => d.entry === 'functions/dns-sync/index.ts');
    const count = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map());
    // the same deliveries the queue got, one per message (a duplicate is a message of its own)
    expect(count(toSync.map((d) => d.id))).toEqual(count([...received.values()].map((r) => r.id)));
    expect([...count(toSync.map((d) => d.id)).values()].some((n) => n === 2)).toBe(true);
    // told at delivery, before the batch that takes the message
    for (const r of received.values())
      expect(Math.min(...toSync.filter((d) => d.id === r.id).map((d) => d.at))).toBeLessThanOrEqual(r.at);
  });

  it("with errors drawn per function, a queue's batching window changes none of the deliveries (the world's events stay the same)", async () => {
    const dnsQueue = [...routing.consumers.entries()].find(
      ([, c]) => routing.functions.get(c.fn)?.entry === 'functions/dns-sync/index.ts',
    )?.[0] as string;
    const withWindow = (windowMs: number) => ({
      ...routing,
      consumers: new Map(
        [...routing.consumers].map(([q, c]) => [q, q === dnsQueue ? { ...c, windowMs } : c]),
      ),
    });
    const deliveries = async (windowMs: number) => {
      const seen: string[] = [];
      const { engine } = await simulate(
        {
          ...DEFAULT_SIM_OPTIONS,
          instances: 9,
          drop: 0.1,
          duplicate: 0.2,
          reorder: 0.2,
          errorRate: 0.1,
          errorsPerFunction: true,
          onDelivery: (d, at) => {
            seen.push(`${at} ${d.entry} ${(d.event as { id: string }).id}`);
          },
        },
        withWindow(windowMs),
      );
      return { seen, dnsSyncRuns: engine.stats.invocations['dns-sync'] };
    };
    const short = await deliveries(5_000);
    const long = await deliveries(60_000);
    expect(long.dnsSyncRuns).toBeLessThan(short.dnsSyncRuns ?? 0);
    expect(long.seen.length).toBeGreaterThan(100);
    expect(long.seen).toEqual(short.seen);
  });

  it('brings a message back when a handler shortens its visibility (ChangeMessageVisibility)', async () => {
    const dnsQueue = [...routing.consumers.entries()].find(
      ([, c]) => routing.functions.get(c.fn)?.entry === 'functions/dns-sync/index.ts',
    )?.[0] as string;
    const visibility = routing.queues.get(dnsQueue)?.visibilityTimeoutMs ?? Number.NaN;
    // Lambda's poller then gathers for the queue's batching window before it invokes
    const windowMs = routing.consumers.get(dnsQueue)?.windowMs ?? Number.NaN;
    const receives = new Map<string, number[]>();
    await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 3,
        overrides: {
          // fails every message; asks for a 20 s retry on the first receive only (as dns-sync does)
          'functions/dns-sync/index.ts': (w) => async (event) => {
            for (const r of (event as SQSEvent).Records) {
              receives.set(r.messageId, [...(receives.get(r.messageId) ?? []), w.clock.now]);
              if (r.attributes.ApproximateReceiveCount === '1') await w.messageRetry.after(r, 20);
            }
            throw new Error('dns-sync down');
          },
        },
      },
      routing,
    );
    expect(receives.size).toBeGreaterThan(0);
    for (const [first, second, third] of receives.values()) {
      expect((second as number) - (first as number)).toBeGreaterThanOrEqual(20_000);
      expect((second as number) - (first as number)).toBeLessThan(30_000 + windowMs);
      if (third !== undefined) expect(third - (second as number)).toBeGreaterThanOrEqual(visibility);
    }
  });
});

describe('the simulated GitHub gives a queued job only to an idle online runner with matching labels', () => {
  it('never to a busy runner, an offline one, or one whose labels do not match (--lost-lifecycle-events: a runner busy with a long job)', async () => {
    const { engine } = await simulate({
      ...DEFAULT_SIM_OPTIONS,
      instances: 12,
      durationMinutes: 30,
      settleMinutes: 20,
      faults: { lostLifecycleEvents: true },
    });
    expect(engine.jobStarts.length).toBeGreaterThan(10);
    const wrong = engine.jobStarts.filter(
      (s) =>
        s.runner.busy ||
        s.runner.status !== 'online' ||
        !s.labels.every((l) => s.runner.labels.some((x) => x.toLowerCase() === l.toLowerCase())),
    );
    expect(
      wrong.map(
        (s) =>
          `job ${s.jobId} at ${s.at - T0} ms to runner ${s.runner.id} (busy ${s.runner.busy}, ${s.runner.status})`,
      ),
    ).toEqual([]);
  });
});
