import type { Proposal, ProposalWhy } from './model';

/**
 * The notification of a proposal, written for an on-call engineer reading it on a phone: what would
 * be done, why, how much it touches, the evidence ids, when it expires, and the exact commands.
 * Pure; the SNS and GitHub notifiers only deliver it.
 */
export interface ProposalMessage {
  /** One line, fewer than 100 characters (SNS: "less than 100 characters long", no line breaks). */
  readonly subject: string;
  readonly body: string;
}

const SUBJECT_MAX = 99;
const LINE_MAX = 160;
const CHANGES_SHOWN = 10;

const WHY: Record<ProposalWhy, string> = {
  irreversible: 'irreversible: it cannot be undone',
  breaker: 'the circuit breaker refused the run',
  budget: 'the removal budget refused the run',
};

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function changeLines(p: Proposal): string[] {
  const shown = p.changes
    .slice(0, CHANGES_SHOWN)
    .map((c) => clip(`- ${c.action} ${Object.values(c.subject).join(' ')}: ${c.reason}`, LINE_MAX));
  const more = p.changes.length - shown.length;
  return more > 0 ? [...shown, `… and ${more} more (fleetwarden show ${p.id})`] : shown;
}

const list = (ids: readonly string[]) => (ids.length ? ids.join(', ') : 'none');

function hoursBetween(from: string, to: string): string {
  const h = (Date.parse(to) - Date.parse(from)) / 3_600_000;
  return Number.isFinite(h) ? `${Math.round(h * 10) / 10} h` : 'unknown time';
}

/** Subject and body of the message announcing `p`. */
export function proposalMessage(p: Proposal): ProposalMessage {
  const { blastRadius: b, evidence: e, proposedBy: by } = p;
  const principal = by.principal ? `, principal ${by.principal}` : '';
  const body = [
    `Proposal ${p.id} (${p.function}) waits for a human decision.`,
    '',
    `What: ${p.summary}`,
    ...changeLines(p),
    `Why: ${p.reason} (${WHY[p.why]})`,
    `Blast radius: ${b.count}${b.of === undefined ? '' : ` of ${b.of}`} ${b.what}`,
    `Evidence: trigger ${e.triggerId}; audit records ${list(e.auditRecordIds)}; CloudTrail events ${list(e.cloudTrailEventIds)}`,
    `Proposed by: ${by.function}, trigger ${by.trigger.source} ${by.trigger.id}${principal}`,
    `Expires: ${p.expiresAt} (${hoursBetween(p.createdAt, p.expiresAt)} after it was made)`,
    ...(p.supersedes ? [`Replaces: ${p.supersedes} (its facts changed)`] : []),
    '',
    'Look, then decide (as a configured approver; runs under the Approver role):',
    `  fleetwarden show ${p.id}`,
    `  fleetwarden approve ${p.id} --reason "…"`,
    `  fleetwarden reject ${p.id} --reason "…"`,
    '',
    'Nothing happens without an approval; the next run re-checks the facts and acts once, or voids this proposal if they changed.',
  ].join('\n');
  return { subject: clip(`fleetwarden: approve? ${p.summary}`, SUBJECT_MAX), body };
}
