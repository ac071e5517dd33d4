/**
 * dns-reconcile in the simulator. The DNS invariants are the report's (simulation.test.ts breaks
 * the evidence check and they fail on a run with lost events). Its own fault: a record of ours
 * deleted by hand (another identity), which real CloudTrail logs as a ChangeResourceRecordSets
 * event ~5 min later; its invariant: the record is back within TRAIL_DELAY_SECONDS plus one
 * schedule period of the change (simulation.test.ts: a trail look that never sees a foreign change
 * makes the run exit 1 on it).
 */
import { T0 } from '../../cli/simulate/engine';
import { SIM_ACCOUNT } from '../../cli/simulate/evidence';
import {
  envOf,
  type Invariant,
  invariant,
  type RemediationSimulation,
  rel,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';

/** When the record is deleted by hand: after the fleet's launches have left reconcile's look-back. */
const HAND_EDIT_AT = T0 + 40 * 60_000;
const ADMIN = `arn:aws:iam::${SIM_ACCOUNT}:role/Admin`;

interface HandEdit {
  name: string;
  instanceId: string;
  at: number;
  boundMs: number;
  restored?: boolean;
  left?: boolean;
}
const edits = new WeakMap<Engine, HandEdit[]>();

/** The hand-made-drift bound the deployed settings give: the delivery allowance plus one schedule period. */
function boundMs(e: Engine): number {
  const env = envOf(e, 'dns-reconcile');
  return (Number(env.TRAIL_DELAY_SECONDS ?? 900) + Number(env.SCHEDULE_SECONDS ?? 900)) * 1000;
}

/** --hand-edited-dns, at 40 min: an A record of ours is deleted in the console; CloudTrail logs it. */
function deleteByHand(e: Engine): void {
  e.at(HAND_EDIT_AT, () => {
    const zoneId = envOf(e, 'dns-reconcile').HOSTED_ZONE_ID;
    if (!zoneId) return;
    const records = e.world.route53.records(zoneId);
    const instanceOf = (name: string) =>
      records
        .find((m) => m.type === 'TXT' && m.name === `_fleetwarden.${name}`)
        ?.values.join('')
        .match(/instance=(i-[0-9a-f]+)/)?.[1];
    // a record of ours whose instance runs (a web host first, the youngest: the likeliest to stay)
    const launched = (id: string | undefined) => (id ? (e.truth.get(id)?.launchedAt ?? 0) : 0);
    const rank = (id: string | undefined) => (id && e.truth.get(id)?.kind === 'web' ? 0 : 1);
    const ours = records
      .filter((r) => r.type === 'A')
      .map((r) => ({ r, instanceId: instanceOf(r.name) }))
      .filter((x) => x.instanceId && e.truth.get(x.instanceId)?.state === 'running')
      .sort(
        (a, b) =>
          rank(a.instanceId) - rank(b.instanceId) ||
          launched(b.instanceId) - launched(a.instanceId) ||
          String(a.instanceId).localeCompare(String(b.instanceId)),
      )[0];
    if (!ours?.instanceId) return;
    const instanceId = ours.instanceId;
    e.world.route53.remove(zoneId, ours.r.name, 'A');
    const at = e.clock.now;
    e.world.evidence.trail.deliver(
      {
        eventId: `sim-hand-edit-${at}`,
        eventName: 'ChangeResourceRecordSets',
        eventSource: 'route53.amazonaws.com',
        eventTime: new Date(at).toISOString(),
        actor: `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/Admin/alice`,
        sessionIssuer: ADMIN,
        region: 'us-east-1',
        resources: [],
        requestParameters: { hostedZoneId: zoneId },
      },
      { region: 'us-east-1' },
    );
    const edit: HandEdit = { name: ours.r.name, instanceId, at, boundMs: boundMs(e) };
    edits.set(e, [...(edits.get(e) ?? []), edit]);
    // watched every minute until the bound has passed (a minute's slack for the schedule's delivery)
    for (let t = at + 60_000; t <= at + edit.boundMs + 60_000; t += 60_000) {
      e.at(t, () => {
        if (edit.restored !== undefined || edit.left) return;
        if (e.world.route53.records(zoneId).some((r) => r.type === 'A' && r.name === ours.r.name)) {
          edit.restored = true;
        } else if (e.truth.get(instanceId)?.state !== 'running') {
          edit.left = true; // its instance left: no record is owed, not judged
        } else if (t + 60_000 > at + edit.boundMs + 60_000) {
          edit.restored = false;
        }
      });
    }
  });
}

function handEditsRepaired(e: Engine): Invariant {
  const all = edits.get(e) ?? [];
  const details = all
    .filter((x) => x.restored === false)
    .map(
      (x) =>
        `${x.name} deleted by hand at ${rel(x.at)} still missing ${Math.round(x.boundMs / 60_000) + 1} min later (bound: TRAIL_DELAY_SECONDS + one schedule period)`,
    );
  const judged = all.filter((x) => x.restored !== undefined).length;
  return invariant('DNS drift made by hand repaired within its bound', details, judged);
}

export const simulation: RemediationSimulation = {
  function: 'dns-reconcile',
  faults: [
    {
      flag: 'hand-edited-dns',
      description:
        'at 40 min an A record of ours is deleted by another identity (logged by CloudTrail ~5 min later): reconcile must restore it within TRAIL_DELAY_SECONDS plus one schedule period',
      schedule: deleteByHand,
    },
  ],
  // Route 53 throttling
  injectError: (e) => e.world.route53.failNext('Throttling'),
  invariants: (e) => [handEditsRepaired(e)],
};
