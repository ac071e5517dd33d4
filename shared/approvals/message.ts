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

/** Plain text (email, SMS-sized lines) or GitHub markdown (an issue). */
export type MessageFormat = 'text' | 'markdown';

function field(format: MessageFormat, name: string, value: string): string {
  return format === 'markdown' ? `**${name}:** ${value}` : `${name}: ${value}`;
}

function commandLines(format: MessageFormat, id: string): string[] {
  const cmds = [
    `fleetwarden show ${id}`,
    `fleetwarden approve ${id} --reason "…"`,
    `fleetwarden reject ${id} --reason "…"`,
  ];
  return format === 'markdown' ? ['```sh', ...cmds, '```'] : cmds.map((c) => `  ${c}`);
}

/** Subject and body of the message announcing `p`. */
export function proposalMessage(p: Proposal, format: MessageFormat = 'text'): ProposalMessage {
  const { blastRadius: b, evidence: e, proposedBy: by } = p;
  const f = (name: string, value: string) => field(format, name, value);
  const principal = by.principal ? `, principal ${by.principal}` : '';
  const id = format === 'markdown' ? `\`${p.id}\`` : p.id;
  const body = [
    `Proposal ${id} (${p.function}) waits for a human decision.`,
    '',
    f('What', p.summary),
    ...changeLines(p),
    f('Why', `${p.reason} (${WHY[p.why]})`),
    f('Blast radius', `${b.count}${b.of === undefined ? '' : ` of ${b.of}`} ${b.what}`),
    f(
      'Evidence',
      `trigger ${e.triggerId}; audit records ${list(e.auditRecordIds)}; CloudTrail events ${list(e.cloudTrailEventIds)}`,
    ),
    f('Proposed by', `${by.function}, trigger ${by.trigger.source} ${by.trigger.id}${principal}`),
    f('Expires', `${p.expiresAt} (${hoursBetween(p.createdAt, p.expiresAt)} after it was made)`),
    ...(p.supersedes ? [f('Replaces', `${p.supersedes} (its facts changed)`)] : []),
    '',
    'Look, then decide (as a configured approver; runs under the Approver role):',
    ...commandLines(format, p.id),
    '',
    'Nothing happens without an approval; the next run re-checks the facts and acts once, or voids this proposal if they changed.',
  ].join('\n');
  return { subject: clip(`fleetwarden: approve? ${p.summary}`, SUBJECT_MAX), body };
}
