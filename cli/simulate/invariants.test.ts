import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../shared/core/errors';
import { simulateCommandWith } from '../commands/simulate';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import type { Invariant } from './invariants';
import { synthesizeFleet } from './routing';
import { DEFAULT_SIM_OPTIONS } from './scenario';
import { simulate } from './simulate';
import { type HandlerOverrides, type Invoke, type World, wireFunction } from './world';

/**
 * For each boundary invariant: a deliberately broken handler makes a short run exit 1 and names
 * the invariant, with a violation that the break (not today's other holes) explains.
 */
const SMALL = ['--instances', '9', '--duration', '20', '--settle', '10'];

/** A function's entry as deployed: index.ts once it is built from its definition, else handler.ts. */
const entryOf = (name: string) =>
  existsSync(new URL(`../../functions/${name}/index.ts`, import.meta.url))
    ? `functions/${name}/index.ts`
    : `functions/${name}/handler.ts`;
const real = (entry: string, w: World, env: Record<string, string>) =>
  wireFunction({ logicalId: 'x', entry: entryOf(entry), env }, w) as Invoke;

async function run(flags: string[], overrides: HandlerOverrides) {
  const out = mkdtempSync(join(tmpdir(), 'fw-sim-inv-'));
  const t = testDeps();
  const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out, ...SMALL, ...flags], t.deps, [
    simulateCommandWith(overrides),
  ]);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { invariants: Invariant[] };
  const invariant = (name: string) => summary.invariants.find((i) => i.name === name) as Invariant;
  return { code, stdout: t.stdout(), invariant };
}

interface LifecycleDetail {
  LifecycleActionToken: string;
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  EC2InstanceId: string;
}
const lifecycleDetails = (event: unknown): LifecycleDetail[] =>
  (event as SQSEvent).Records.flatMap((r) => {
    const d = (JSON.parse(r.body) as { detail?: Partial<LifecycleDetail> }).detail;
    return d?.LifecycleActionToken && d.EC2InstanceId ? [d as LifecycleDetail] : [];
  });
const refOf = (d: LifecycleDetail) => ({
  autoScalingGroupName: d.AutoScalingGroupName,
  lifecycleHookName: d.LifecycleHookName,
  lifecycleActionToken: d.LifecycleActionToken,
  instanceId: d.EC2InstanceId,
});

describe('simulator boundary invariants fail when a handler breaks them', () => {
  it('no message dead-lettered: a drain that always fails', async () => {
    const r = await run([], {
      'functions/runner-drain/index.ts': () => async () => {
        throw new Error('drain down');
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL no message dead-lettered \(\d+ violations? in \d+ checked\)/);
    expect(r.invariant('no message dead-lettered').details[0]).toMatch(
      /^runner-drain: message or event 1 of/,
    );
  });

  it('every invocation error is injected or retried to success: a reconcile that always fails', async () => {
    const r = await run([], {
      'functions/dns-reconcile/index.ts': () => async () => {
        throw new Error('reconcile down');
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('every invocation error is injected or retried to success').details).toContainEqual(
      expect.stringMatching(
        /^dns-reconcile failed on schedule\/DnsReconcileSchedule\w+\/\d+ at t\+\d+s and was never retried to success$/,
      ),
    );
  });

  it('no foreign hook touched: a rule on the ASG name only and a drain that heartbeats any hook it is told of', async () => {
    const fleet = synthesizeFleet({ dryRun: false });
    // the rule as it was: every terminate lifecycle event of the ASG, whichever hook
    const routing = {
      ...fleet,
      rules: fleet.rules.map((rule) => {
        const detail = (rule.pattern?.detail ?? undefined) as Record<string, unknown> | undefined;
        if (!detail || !('LifecycleHookName' in detail)) return rule;
        const { LifecycleHookName: _dropped, ...rest } = detail;
        return { ...rule, pattern: { ...rule.pattern, detail: rest } };
      }),
    };
    const { summary } = await simulate(
      {
        seed: 42,
        instances: 9,
        durationMinutes: 20,
        settleMinutes: 10,
        drop: 0,
        duplicate: 0,
        reorder: 0,
        errorRate: 0,
        faults: { foreignHooks: true },
        overrides: {
          'functions/runner-drain/index.ts': (w, env) => {
            const drain = real('runner-drain', w, env);
            return async (event, context) => {
              for (const d of lifecycleDetails(event)) await w.lifecycleActions.heartbeat(refOf(d));
              return drain(event, context);
            };
          },
        },
      },
      routing,
    );
    const inv = summary.invariants.find((i) => i.name === 'no foreign hook touched');
    expect(inv?.ok).toBe(false);
    expect(inv?.details[0]).toMatch(
      /^runner-drain called RecordLifecycleActionHeartbeat on hook log-shipper-flush of ci-runners/,
    );
  });

  it('no foreign hook touched: with the rule filtering on the hook, a drain that takes the hook a message names for its own', async () => {
    const r = await run(['--foreign-hooks'], {
      'functions/runner-drain/index.ts': (w, env) => {
        // runner-drain as if it had no hook check of its own: wired per message with the hook it names
        const drains = new Map<string, Invoke>();
        const drainFor = (hook: string) => {
          if (!drains.has(hook))
            drains.set(hook, real('runner-drain', w, { ...env, LIFECYCLE_HOOK_NAME: hook }));
          return drains.get(hook) as Invoke;
        };
        return async (event, context) => {
          const failures: { itemIdentifier: string }[] = [];
          for (const record of (event as SQSEvent).Records) {
            const hook =
              lifecycleDetails({ Records: [record] })[0]?.LifecycleHookName ?? env.LIFECYCLE_HOOK_NAME ?? '';
            const res = (await drainFor(hook)({ Records: [record] }, context)) as SQSBatchResponse;
            failures.push(...res.batchItemFailures);
          }
          return { batchItemFailures: failures };
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no foreign hook touched').details).toContainEqual(
      expect.stringMatching(/^runner-drain called \w+ on hook log-shipper-flush of ci-runners/),
    );
  });

  it('no stale DNS record: a dns-sync whose clock runs 3 h fast, so it takes a forged future-dated running event for a current one', async () => {
    const r = await run(['--forged-messages'], {
      'functions/dns-sync/index.ts': (w, env) => {
        const fast = Object.create(w, {
          now: { get: () => new Date(w.now.getTime() + 3 * 3_600_000) },
        }) as World;
        return real('dns-sync', fast, env);
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no stale DNS record').ok).toBe(false);
  });

  it('nothing outside the blast radius changed: a sweep that terminates every fleet-tagged instance outside the runner ASG', async () => {
    const r = await run(['--spoofed-tags'], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const sweep = real('runner-sweep', w, env);
        return async (event, context) => {
          const res = await sweep(event, context);
          const spoofed = (await w.inventory.listByTag('fleetwarden:fleet', 'runners')).filter(
            (i) => i.state === 'running' && i.tags['aws:autoscaling:groupName'] !== 'ci-runners',
          );
          if (spoofed.length > 0) await w.terminator.terminate(spoofed.map((i) => i.instanceId));
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('nothing outside the blast radius changed').details).toContainEqual(
      expect.stringMatching(/^i-\w+ \(spoofed, ASG (payments-workers|none)\) was terminated$/),
    );
  });

  it('nothing outside the blast radius changed: a reconcile that deletes a record a human wrote', async () => {
    const r = await run([], {
      'functions/dns-reconcile/index.ts': (w, env) => {
        const reconcile = real('dns-reconcile', w, env);
        return async (event, context) => {
          const res = await reconcile(event, context);
          const zone = env.HOSTED_ZONE_ID ?? '';
          const human = (await w.route53.listRecordSets(zone)).filter((x) => x.name.startsWith('ci-cache.'));
          if (human.length > 0)
            await w.route53.changeRecordSets(
              zone,
              human.map((record) => ({ action: 'DELETE' as const, record })),
            );
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('nothing outside the blast radius changed').details).toContainEqual(
      'A ci-cache.fleet.example.internal was deleted',
    );
  });

  it('no mutating call without an intent record before it: a drain that heartbeats again without any audit record', async () => {
    const r = await run([], {
      'functions/runner-drain/index.ts': (w, env) => {
        const drain = real('runner-drain', w, env);
        return async (event, context) => {
          const res = await drain(event, context);
          for (const d of lifecycleDetails(event)) await w.lifecycleActions.heartbeat(refOf(d));
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no mutating call without an intent record before it').details).toContainEqual(
      expect.stringMatching(
        /^runner-drain RecordLifecycleActionHeartbeat i-\w+ at t\+\d+s: no audit record holds the call$/,
      ),
    );
  });

  it('no mutating call without an intent record before it: a job-watch that cordons the runner a webhook names, on the name alone', async () => {
    const r = await run([], {
      'functions/runner-job-watch/index.ts': (w, env) => {
        const watch = real('runner-job-watch', w, env);
        return async (event, context) => {
          const out = await watch(event, context);
          // broken: job-watch only reports; this one acts on the (unverified) webhook's runner
          const job = (event as { detail: { job: { runnerId: number | null } } }).detail.job;
          if (out === 'healthy' && job.runnerId !== null)
            await w.registry.cordonRunner(job.runnerId, ['fleetwarden-draining']);
          return out;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no mutating call without an intent record before it').details).toContainEqual(
      expect.stringMatching(/^runner-job-watch CordonRunner \S+ at t\+\d+s: no audit record holds the call$/),
    );
  });

  it('runner-sweep removals within the rolling budget: a sweep that deregisters three idle runners every run', async () => {
    const r = await run([], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const sweep = real('runner-sweep', w, env);
        return async (event, context) => {
          const res = await sweep(event, context);
          const idle = (await w.registry.listRunners()).filter((x) => !x.busy).slice(0, 3);
          for (const x of idle) await w.registry.deleteRunner(x.id);
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('runner-sweep removals within the rolling budget').details[0]).toMatch(
      /^\d+ removals by runner-sweep between t\+\d+s and t\+\d+s, budget \d+ \(maxRemovalShare 0\.2 x peak \d+ runners, 3600 s window\)$/,
    );
  });

  it('runner-sweep spends its removal budget only on removals it attempts: a sweep that books one more every run', async () => {
    const r = await run([], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const sweep = real('runner-sweep', w, env);
        let n = 0;
        return async (event, context) => {
          // broken: a removal it will not make (a termination waiting for approval) is booked
          const at = new Date(Date.parse((event as { time: string }).time));
          await w
            .sweepStateOf(env.SWEEP_STATE_TABLE)
            .recordRemovals(1, `phantom-${++n}`, at, new Date(at.getTime() + 7_200_000));
          return sweep(event, context);
        };
      },
    });
    expect(r.code).toBe(1);
    expect(
      r.invariant('runner-sweep spends its removal budget only on removals it attempts').details[0],
    ).toMatch(/^runner-sweep invocation \d+ spent \d+ units of its removal budget on 0 removals attempted$/);
  });

  it('no forged message acted on: a drain that deregisters the runner of whatever instance a message names', async () => {
    const r = await run(['--forged-messages'], {
      'functions/runner-drain/index.ts': (w, env) => {
        const drain = real('runner-drain', w, env);
        return async (event, context) => {
          for (const d of lifecycleDetails(event)) {
            const runner = (await w.registry.listRunners()).find((x) => x.name === `ci-${d.EC2InstanceId}`);
            if (runner && !runner.busy) await w.registry.deleteRunner(runner.id);
          }
          return drain(event, context);
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no forged message acted on').details).toContainEqual(
      expect.stringMatching(/runner-drain deregistered runner \d+ of live i-\w+$/),
    );
  });

  it('no runner of another fleet removed: a sweep that also deregisters offline runners naming a gone instance, whatever their fleet label', async () => {
    const r = await run(['--foreign-fleet-runners'], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const sweep = real('runner-sweep', w, env);
        return async (event, context) => {
          const res = await sweep(event, context);
          const ids = new Set(
            (await w.inventory.listInStates(['shutting-down', 'terminated'])).map((i) => i.instanceId),
          );
          for (const x of await w.registry.listRunners()) {
            const named = x.labels.find((l) => l.startsWith('fleetwarden-instance:'))?.split(':')[1];
            if (!x.busy && x.status === 'offline' && named && ids.has(named))
              await w.registry.deleteRunner(x.id);
          }
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL no runner of another fleet removed \(\d+ violations? in \d+ checked\)/);
    expect(r.invariant('no runner of another fleet removed').details[0]).toMatch(
      /^runner \d+ blue-fleet-i-\w+ \(fleetwarden-fleet:blue-fleet\) was deregistered$/,
    );
  });

  it('a replayed webhook body is not published twice: an ingress that publishes whatever it did not', async () => {
    const r = await run(['--webhook-replays'], {
      'functions/webhook-ingress/index.ts': (w, env) => {
        const ingress = real('webhook-ingress', w, env);
        return async (event, context) => {
          const before = w.bus.events.length;
          const res = (await ingress(event, context)) as { statusCode: number };
          if (w.bus.events.length === before && res.statusCode < 300) {
            const body = JSON.parse((event as { body: string }).body) as Record<string, unknown>;
            await w.bus.publish([{ source: 'fleetwarden.github', detailType: 'workflow_job', detail: body }]);
          }
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('a replayed webhook body is not published twice').details[0]).toMatch(
      /^replay-\d+-delivery-\d+-\w+: answered 20\d, published 1 event\(s\) again$/,
    );
  });

  it('every form-encoded delivery is accepted and published: an ingress that only reads JSON', async () => {
    const r = await run(['--form-encoded'], {
      'functions/webhook-ingress/index.ts': (w, env) => {
        const ingress = real('webhook-ingress', w, env);
        return async (event, context) => {
          const type = (event as { headers: Record<string, string> }).headers['content-type'];
          if (type === 'application/x-www-form-urlencoded') return { statusCode: 400, body: '{}' };
          return ingress(event, context);
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('every form-encoded delivery is accepted and published').details[0]).toMatch(
      /^delivery-\d+-\w+: answered 400, published 0$/,
    );
  });

  it('no false alarm: a job-watch that degrades under the GitHub rate limit (skips, audited) holds both delivery invariants in the default run', async () => {
    const rateLimited = (err: unknown): boolean =>
      err instanceof ThrottledError ||
      (err instanceof Error && err.cause !== undefined && rateLimited(err.cause));
    const { summary } = await simulate({
      ...DEFAULT_SIM_OPTIONS,
      overrides: {
        'functions/runner-job-watch/index.ts': (w, env) => {
          const watch = real('runner-job-watch', w, env);
          return async (event, context) => {
            try {
              return await watch(event, context);
            } catch (err) {
              if (!rateLimited(err)) throw err;
              const id = (event as { id: string }).id;
              await w.audit.write({
                schemaVersion: 1,
                recordId: `runner-job-watch:rate-limited:${id}`,
                time: w.now.toISOString(),
                function: 'runner-job-watch',
                trigger: { source: 'fleetwarden.github', id },
                subject: { runnerName: 'fleet:runners' },
                action: 'runner.job-started',
                decision: 'skipped',
                reason: 'GitHub rate limit reached: the job is not checked',
                mode: 'live',
              });
              return undefined;
            }
          };
        },
      },
    });
    expect(summary.apiCalls['github:rate-limited']).toBeGreaterThan(0);
    const failing = summary.invariants.filter((i) => !i.ok).map((i) => i.name);
    expect(failing).not.toContain('no message dead-lettered');
    expect(failing).not.toContain('every invocation error is injected or retried to success');
  });
});

describe('simulator invariants of the name-claimant and stale-replay faults', () => {
  it('a held name never moves: a dns-sync that gives a stopped holder’s name to the running claimant', async () => {
    const r = await run(['--name-claimants'], {
      'functions/dns-sync/index.ts': (w, env) => {
        const inner = real('dns-sync', w, env);
        return async (event, ctx) => {
          const out = await inner(event, ctx);
          // broken: a running instance takes its tagged name whenever the holder is not running
          const named = await w.inventory.listByTag('fleetwarden:dns-name');
          for (const i of named.filter((x) => x.state === 'running' && x.privateIp)) {
            const tag = i.tags['fleetwarden:dns-name'];
            const holderStopped = named.some(
              (x) =>
                x.instanceId !== i.instanceId &&
                x.tags['fleetwarden:dns-name'] === tag &&
                x.state === 'stopped',
            );
            if (!holderStopped) continue;
            const zoneId = env.HOSTED_ZONE_ID ?? 'Z0SIMULATED';
            const name = `${tag}.${env.ZONE_NAME ?? 'fleet.example.internal'}.`;
            if (w.route53.records(zoneId).some((x) => x.type === 'A' && x.name === name)) continue;
            await w.route53.changeRecordSets(zoneId, [
              { action: 'CREATE', record: { name, type: 'A', ttl: 60, values: [i.privateIp as string] } },
            ]);
          }
          return out;
        };
      },
    });
    expect(r.code).toBe(1);
    const held = r.invariant('a held name never moves while its holder has not terminated');
    expect(held.ok).toBe(false);
    expect(held.details[0]).toMatch(/while its holder i-\w+ \(10\.0\.\d+\.\d+\) is stopped/);
  });

  it('no workflow_job older than the maximum job age published: an ingress without the stale-job check', async () => {
    const r = await run(['--stale-replays', '--settle', '65'], {
      'functions/webhook-ingress/index.ts': (w, env) =>
        real('webhook-ingress', w, { ...env, MAX_JOB_AGE_SECONDS: '259200' }),
    });
    expect(r.code).toBe(1);
    const stale = r.invariant('no workflow_job older than the maximum job age published');
    expect(stale.ok).toBe(false);
    expect(stale.details[0]).toMatch(
      /^captured-delivery-\d+-queued: queued of t\+\d+s published at .*, \d+ s old \(limit 3600 s\)$/,
    );
  });

  it('no forged message acted on: a drain that takes any state Auto Scaling reports for waiting on its hook', async () => {
    const r = await run(['--forged-messages'], {
      'functions/runner-drain/index.ts': (w, env) => {
        const inspect = w.lifecycleActions.inspect.bind(w.lifecycleActions);
        w.lifecycleActions.inspect = async (id, hook) => {
          const view = await inspect(id, hook);
          return view && !view.lifecycleState.includes(':')
            ? { ...view, lifecycleState: 'Terminating:Wait' }
            : view;
        };
        return real('runner-drain', w, env);
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no forged message acted on').details).toContainEqual(
      expect.stringMatching(
        /runner-drain (heartbeat|complete) lifecycle action forged-token-i-\w+-wrong-state of live i-\w+$/,
      ),
    );
  });

  it('a runner back from the warm pool is still registered: a drain that takes a warm-pool scale-in for a termination', async () => {
    // a seed whose first runner scale-in (the warm pool's) has a registered runner (seeds 3, 42:
    // an instance that never registers, since the drain's by-name lookup and 1-minute look)
    const r = await run(['--warm-pool-scale-in', '--seed', '4'], {
      'functions/runner-drain/index.ts': (w, env) => {
        const inspect = w.lifecycleActions.inspect.bind(w.lifecycleActions);
        w.lifecycleActions.inspect = async (id, hook) => {
          const view = await inspect(id, hook);
          return view?.lifecycleState === 'Warmed:Pending:Wait'
            ? { ...view, lifecycleState: 'Terminating:Wait' }
            : view;
        };
        const drain = real('runner-drain', w, env);
        return async (event, context) => {
          const records = (event as SQSEvent).Records.map((m) => {
            const body = JSON.parse(m.body) as { detail?: Record<string, unknown> };
            if (body.detail) delete body.detail.Destination;
            return { ...m, body: JSON.stringify(body) };
          });
          return drain({ Records: records }, context);
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('a runner back from the warm pool is still registered').details).toContainEqual(
      expect.stringMatching(/^runner \d+ of i-\w+ \(back from the warm pool at t\+\d+s\) is not registered$/),
    );
  });

  it('no ghost runner: a sweep whose every run is refused from a failed listing (nothing judged, nothing held back by name)', async () => {
    const r = await run([], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const failing = Object.create(w.registry, {
          listRunners: {
            value: async () => {
              throw new ThrottledError('GitHub rate limit exhausted (broken sweep)', 60_000);
            },
          },
        });
        return real('runner-sweep', Object.create(w, { registry: { value: failing } }) as World, env);
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no ghost runner').details).toContainEqual(
      expect.stringMatching(/^runner ci-i-\w+ \(id \d+\) is still registered; its instance is terminated$/),
    );
  });

  it('no ghost runner: a sweep that removes nothing and forges a breaker refusal (fleetSize 1, invented ids)', async () => {
    let k = 0;
    const r = await run([], {
      'functions/runner-sweep/index.ts': (w) => async (event) => {
        const time = String((event as { time?: string }).time);
        const named = w.registry
          .snapshot()
          .map((x) => ({ kind: 'deregister', runnerId: x.id, instanceId: 'x' }));
        const invented = [901, 902, 903, 904].map((runnerId) => ({
          kind: 'deregister',
          runnerId,
          instanceId: 'x',
        }));
        await w.audit.write({
          schemaVersion: 1,
          recordId: `runner-sweep:forged-${k++}`,
          time,
          function: 'runner-sweep',
          trigger: { source: 'aws.events', id: `forged-${k}` },
          subject: { runnerName: 'fleet:runners' },
          action: 'runner.sweep',
          decision: 'refused',
          reason: 'circuit open (forged)',
          mode: 'live',
          correlation: { status: 'not-applicable', attempts: 0, calls: [] },
          details: { refused: true, refusedBy: 'breaker', fleetSize: 1, withheld: [...named, ...invented] },
        });
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no ghost runner').details).toContainEqual(
      expect.stringMatching(/^runner ci-i-\w+ \(id \d+\) is still registered; its instance is terminated$/),
    );
  });

  it('no runner of a live instance removed by runner-sweep: a sweep that also deregisters one online idle runner of a running instance', async () => {
    let done = false;
    const r = await run([], {
      'functions/runner-sweep/index.ts': (w, env) => {
        const sweep = real('runner-sweep', w, env);
        return async (event, context) => {
          const res = await sweep(event, context);
          const online = (await w.registry.listRunners()).find((x) => x.status === 'online' && !x.busy);
          if (online && !done) {
            done = true;
            await w.registry.deleteRunner(online.id);
          }
          return res;
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant('no runner of a live instance removed by runner-sweep').details).toContainEqual(
      expect.stringMatching(/^runner-sweep deregistered online runner \d+ of running i-\w+ at t\+\d+s$/),
    );
  });

  it('no fleet hook expired with its runner registered before the drain deadline: a drain that never heartbeats', async () => {
    // a seed whose first runner scale-in has a registered runner (with seed 42 it has none)
    const r = await run(['--seed', '4'], {
      'functions/runner-drain/index.ts': () => async () => ({ batchItemFailures: [] }),
    });
    expect(r.code).toBe(1);
    expect(
      r.invariant('no fleet hook expired with its runner registered before the drain deadline').details,
    ).toContainEqual(
      expect.stringMatching(
        /^hook token-i-[\w-]+ of i-\w+ expired at t\+\d+s, \d+ s into a \d+ s drain deadline, runner \d+ still registered$/,
      ),
    );
  });
});
