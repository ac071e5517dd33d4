import type { Subject } from '../audit/schema';
import { perform, type RunKit, recordNote } from '../kernel/perform';
import type { PlanAction, PlanDecision } from './planner';

/**
 * The per-instance decisions of a DNS run, as action kinds. Their Route 53 changes are sent by the
 * run's batch action (one request per zone for the whole batch, declared by each function with
 * the ChangeResourceRecordSets grants): these records say what the batch did for each instance,
 * so they make no call themselves (none is allowed).
 */
export const DNS_RECORD_KINDS = {
  upsert: {
    audit: 'dns.upsert',
    does: "publish the instance's record",
    reversible: true,
    weight: 0,
    iam: () => [],
    calls: [],
  },
  delete: {
    audit: 'dns.delete',
    does: "remove the instance's record (leaving a tombstone marker)",
    reversible: true,
    weight: 0,
    iam: () => [],
    calls: [],
  },
  expireTombstone: {
    audit: 'dns.expire-tombstone',
    does: 'remove an expired tombstone marker',
    reversible: true,
    weight: 0,
    iam: () => [],
    calls: [],
  },
} as const;

export type DnsRecordKind = keyof typeof DNS_RECORD_KINDS;

const KIND_OF: Record<PlanAction, DnsRecordKind> = {
  'dns.upsert': 'upsert',
  'dns.delete': 'delete',
  'dns.expire-tombstone': 'expireTombstone',
};

/** The kind whose audit name is `action`. */
export const kindOf = (action: PlanAction): DnsRecordKind => KIND_OF[action];

/**
 * Record one instance's planned decision under `action`: acted -> performed by the kernel (a dry run
 * reports "dry run: would <reason>"), skipped or refused -> a note.
 */
export async function recordDecision(
  kit: RunKit,
  action: PlanAction,
  d: Pick<PlanDecision, 'decision' | 'reason'>,
  subject: Subject,
  details: Record<string, unknown>,
): Promise<void> {
  if (d.decision !== 'acted') {
    await recordNote(kit, {
      kind: 'note',
      audit: action,
      decision: d.decision,
      subject,
      reason: d.reason,
      details,
    });
    return;
  }
  const planned = { kind: kindOf(action), subject, reason: d.reason, details };
  await perform(
    kit,
    planned,
    async () => ({ decision: 'acted' }),
    async () => ({ decision: 'reported', reason: `dry run: would ${d.reason}` }),
  );
}
