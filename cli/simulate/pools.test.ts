import type { Context, ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { FLEET_LABEL_PREFIX, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { SIM_ACCOUNT } from './evidence';
import { seededRandom } from './rng';
import { synthesizeFleet } from './routing';
import { World, wireFunction } from './world';

/** Two pools of one organisation, told apart by their labels (and fleet tags and groups). */
const POOLS = [
  {
    name: 'linux',
    github: { owner: 'example-org' },
    autoScalingGroupNames: ['linux-runners'],
    labels: ['linux'],
    maxRemovalShare: 0.5,
  },
  {
    name: 'gpu',
    github: { owner: 'example-org' },
    autoScalingGroupNames: ['gpu-runners'],
    labels: ['gpu'],
    maxRemovalShare: 0.5,
  },
];
const PER_POOL = 10;
const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;

const routing = synthesizeFleet({
  github: undefined,
  autoScalingGroupNames: undefined,
  dryRun: false,
  pools: POOLS,
});

const iid = (pool: number, n: number) => `i-${(pool * 1000 + n).toString(16).padStart(17, '0')}`;

/** Each pool's instances (its fleet tag, its group) and their runners (the fleet's label and the pool's). */
function fleet(w: World) {
  const runners = new Map<string, number[]>();
  POOLS.forEach((pool, p) => {
    const ids: number[] = [];
    for (let n = 1; n <= PER_POOL; n++) {
      const instanceId = iid(p + 1, n);
      w.inventory.put({
        instanceId,
        state: 'running',
        tags: {
          'fleetwarden:fleet': pool.name,
          'aws:autoscaling:groupName': pool.autoScalingGroupNames[0] as string,
        },
        autoScalingGroupName: pool.autoScalingGroupNames[0] as string,
        launchTime: new Date(T0 - 120 * MIN).toISOString(),
      });
      const labels = [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}${instanceId}`,
        `${FLEET_LABEL_PREFIX}${SIM_ACCOUNT}`,
      ];
      ids.push(w.registry.register({ name: `ci-${instanceId}`, labels: [...labels, ...pool.labels] }).id);
    }
    // a ghost whose instance EC2 no longer describes: only the labels say whose it is
    const gone = iid(p + 1, 99);
    const labels = ['self-hosted', `${INSTANCE_LABEL_PREFIX}${gone}`, `${FLEET_LABEL_PREFIX}${SIM_ACCOUNT}`];
    ids.push(
      w.registry.register({ name: `ci-${gone}`, status: 'offline', labels: [...labels, ...pool.labels] }).id,
    );
    runners.set(pool.name, ids);
  });
  return runners;
}

/** `count` of pool p's running instances, picked by the seeded random, leave (their runners go offline). */
function leave(w: World, random: () => number, left: Set<string>, p: number, count: number) {
  const running = Array.from({ length: PER_POOL }, (_, n) => iid(p + 1, n + 1)).filter((id) => !left.has(id));
  for (let k = 0; k < count; k++) {
    const [id] = running.splice(Math.floor(random() * running.length), 1);
    if (!id) break;
    left.add(id);
    w.inventory.setState(id, 'terminated');
    const runner = w.registry.findByName(`ci-${id}`);
    if (runner) w.registry.setStatus(runner.id, 'offline');
  }
}

/** Each pool's sweep, wired from the synthesized stack as the simulator wires it. */
function sweeps(w: World) {
  const out = new Map<string, NonNullable<ReturnType<typeof wireFunction>>>();
  for (const route of routing.functions.values()) {
    if (route.entry !== 'functions/runner-sweep/index.ts') continue;
    const invoke = wireFunction(route, w);
    if (invoke) out.set(String(route.env.POOL_NAME), invoke);
  }
  return out;
}

async function sweepBoth(w: World, clock: { now: number }, run: number) {
  const results: Record<string, { deleted: number[]; refused: boolean }> = {};
  for (const [pool, invoke] of sweeps(w)) {
    const before = w.registry.deleted.length;
    const event = {
      id: `sched-${pool}-${run}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date(clock.now).toISOString(),
      detail: {},
    } as unknown as ScheduledEvent;
    const summary = (await invoke(event, { awsRequestId: `req-${pool}-${run}` } as Context)) as {
      refused: boolean;
    };
    results[pool] = { deleted: w.registry.deleted.slice(before).map((r) => r.id), refused: summary.refused };
  }
  return results;
}

describe('simulated fleet of two runner pools in one organisation', () => {
  it.each([1, 7, 42])(
    'seed %i: a pool sweep never touches the other pool, and each breaker and budget is its own',
    async (seed) => {
      const clock = { now: T0 };
      const random = seededRandom(seed);
      const w = new World(clock, random);
      const runners = fleet(w);
      const left = new Set<string>();
      expect([...sweeps(w).keys()].sort()).toEqual(['gpu', 'linux']);
      const mine = (pool: string, ids: number[]) => ids.every((id) => runners.get(pool)?.includes(id));

      // within one budget window both pools remove what their budget (5 of 10) allows: no shared ledger
      leave(w, random, left, 0, 3);
      leave(w, random, left, 1, 3);
      clock.now += 10 * MIN;
      const first = await sweepBoth(w, clock, 1);
      for (const pool of ['linux', 'gpu']) {
        expect(first[pool]?.refused, `${pool} refused`).toBe(false);
        expect(first[pool]?.deleted.length, `${pool} removed`).toBeGreaterThanOrEqual(3);
        expect(mine(pool, first[pool]?.deleted ?? []), `${pool} removed only its own`).toBe(true);
      }

      // next window: a wave of ghosts trips the linux pool's breaker only
      clock.now += 2 * 60 * MIN;
      leave(w, random, left, 0, 6);
      leave(w, random, left, 1, 1);
      clock.now += 10 * MIN;
      const second = await sweepBoth(w, clock, 2);
      expect(second.linux).toEqual({ deleted: [], refused: true });
      expect(second.gpu?.refused).toBe(false);
      expect(second.gpu?.deleted.length).toBeGreaterThanOrEqual(1);
      expect(mine('gpu', second.gpu?.deleted ?? [])).toBe(true);

      // the timeline tells the pools apart: every record of a pool's sweep names it
      const runs = w.audit.all().filter((r) => r.action === 'runner.sweep');
      expect(runs.map((r) => [r.details.pool, r.decision])).toEqual(
        expect.arrayContaining([
          ['linux', 'refused'],
          ['gpu', 'acted'],
        ]),
      );
      expect(
        w.audit.all().every((r) => r.function !== 'runner-sweep' || typeof r.details.pool === 'string'),
      ).toBe(true);
    },
  );
});
