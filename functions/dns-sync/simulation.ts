/**
 * dns-sync in the simulator: a name claimant (a second instance launched with a stopped host's
 * name tag); a held name never moves to another instance while its holder has not terminated.
 */
import { T0 } from '../../cli/simulate/engine';
import type { TruthInstance } from '../../cli/simulate/fleet-model';
import {
  faultTargets,
  type Invariant,
  invariant,
  type RemediationSimulation,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';

/** --name-claimants: the stopped holder of a name, the instance launched with the same name tag, what moved. */
interface ClaimState {
  holder?: TruthInstance;
  claimant?: TruthInstance;
  /** Each time the holder's name pointed at another value while the holder had not terminated. */
  moved: string[];
  /** Route 53 changes checked against the holder's name. */
  checked: number;
}
const claimStates = new WeakMap<Engine, ClaimState>();

export function claimState(e: Engine): ClaimState {
  let s = claimStates.get(e);
  if (!s) {
    s = { moved: [], checked: 0 };
    claimStates.set(e, s);
  }
  return s;
}

/**
 * A running web host (the last one up, not a forged message's target) is stopped for a while and
 * started again with the same IP; a minute after it stops, a second instance is launched with its
 * name tag. The name stays with its holder: the claimant gets no record, running or not.
 */
function scheduleNameClaimant(e: Engine): void {
  const minutes = e.options.durationMinutes;
  const s = claimState(e);
  e.at(T0 + Math.floor(minutes * 0.35 * 60_000), () => {
    const forged = faultTargets(e, 'forged');
    const webs = [...e.truth.values()].filter(
      (t) => t.kind === 'web' && t.state === 'running' && !forged.has(t.id),
    );
    const holder = webs[webs.length - 1];
    if (!holder) return;
    s.holder = holder;
    e.put(holder, 'stopping');
    e.after(10_000, () => e.put(holder, 'stopped'));
    e.after(60_000, () => {
      // 1101 is a web host's number (a multiple of three) far above the scenario's
      const claimant = e.launch(1101);
      claimant.name = holder.name;
      s.claimant = claimant;
      // its record (none) is judged here, not by the report's DNS invariants
      faultTargets(e, 'claimant').add(claimant.id);
    });
    e.at(T0 + Math.floor(minutes * 0.48 * 60_000), () => {
      if (holder.state !== 'stopped') return;
      e.put(holder, 'pending');
      e.after(20_000, () => e.put(holder, 'running'));
    });
  });
}

/**
 * After every Route 53 change: while the holder has not terminated, the A record at its name holds
 * the holder's IP or is absent (dns-sync deletes it while the holder is stopped and keeps a
 * tombstone naming the holder, so no other instance can take the name).
 */
function watchClaimedNames(e: Engine): void {
  const s = claimState(e);
  const r53 = e.world.route53;
  const change = r53.changeRecordSets.bind(r53);
  r53.changeRecordSets = async (zoneId, changes) => {
    try {
      return await change(zoneId, changes);
    } finally {
      const h = s.holder;
      if (h && h.state !== 'terminated' && zoneId === e.zoneId) {
        s.checked++;
        const name = `${h.name}.${e.zoneName}`.toLowerCase().replace(/\.$/, '');
        const a = r53
          .records(e.zoneId)
          .find((r) => r.type === 'A' && r.name.toLowerCase().replace(/\.$/, '') === name);
        if (a && (a.values.length !== 1 || a.values[0] !== h.ip))
          s.moved.push(
            `${new Date(e.clock.now).toISOString()} ${e.world.journal.fn}: ${name} -> ${a.values.join(',')} while its holder ${h.id} (${h.ip}) is ${h.state}`,
          );
      }
    }
  };
}

/**
 * --name-claimants: a held name never moves to another instance while its holder has not
 * terminated: after every Route 53 change the A record at the name holds the holder's IP, or is
 * absent (while the holder is stopped dns-sync removes it and keeps a tombstone naming the holder).
 */
export function heldNamesStay(e: Engine): Invariant {
  const s = claimState(e);
  return invariant('a held name never moves while its holder has not terminated', [...s.moved], s.checked);
}

export const simulation: RemediationSimulation = {
  function: 'dns-sync',
  faults: [
    {
      flag: 'name-claimants',
      description:
        'stop a named web host for a while and, while it is stopped, launch a second instance with its name tag',
      install: watchClaimedNames,
      schedule: scheduleNameClaimant,
    },
  ],
  // Route 53 throttling
  injectError: (e) => e.world.route53.failNext('Throttling'),
  invariants: (e) => [heldNamesStay(e)],
};
