import { createHash } from 'node:crypto';
import type { Subject } from '../audit/schema';
import type {
  ApprovalPolicy,
  Decision,
  IgnoredDecision,
  Judgement,
  PlannedChange,
  Proposal,
  ProposalStatus,
  ProposalWhy,
} from './model';

/**
 * The approval rules, pure: how a proposal is keyed and fingerprinted, who may approve, and how a
 * proposal's decisions are judged. The gate (gate.ts), the CLI and the expiry sweep all judge with
 * `judge`, so what `fleetwarden show` says is what the fleet does.
 */

/** JSON with object keys sorted at every depth and `undefined` fields dropped (a stable form). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}

/** A subject as a stable string (its canonical JSON). */
export function subjectKey(subject: Subject): string {
  return canonicalJson(subject);
}

/**
 * What a proposal is about, stable across runs: `<function>#<kind>#<subjectKey>` for one
 * irreversible action, `<function>#run` for a run the breaker or the budget refused (its batch).
 */
export function proposalKey(r: {
  function: string;
  why: ProposalWhy;
  changes: readonly Pick<PlannedChange, 'kind' | 'subject'>[];
}): string {
  const [only] = r.changes;
  if (r.why === 'irreversible' && r.changes.length === 1 && only)
    return `${r.function}#${only.kind}#${subjectKey(only.subject)}`;
  return `${r.function}#run`;
}

/** sha256 hex over the canonical JSON of the changes' [kind, subject, facts]: what a human approves. */
export function fingerprint(changes: readonly Pick<PlannedChange, 'kind' | 'subject' | 'facts'>[]): string {
  const body = canonicalJson(changes.map((c) => [c.kind, c.subject, c.facts]));
  return createHash('sha256').update(body).digest('hex');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** "fwp-" + the first 12 base32 (RFC 4648, lower case) chars of sha256(key|fingerprint|createdAt). */
export function proposalId(key: string, fp: string, createdAt: string): string {
  const digest = createHash('sha256').update(`${key}|${fp}|${createdAt}`).digest();
  let bits = '';
  for (const byte of digest.subarray(0, 8)) bits += byte.toString(2).padStart(8, '0');
  let id = '';
  for (let i = 0; i < 12; i++) id += BASE32[Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)];
  return `fwp-${id}`;
}

const ASSUMED_ROLE = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

/** The forms an identity is matched in: itself, and an assumed-role session as its IAM role ARN. */
function identityForms(arn: string): string[] {
  const m = ASSUMED_ROLE.exec(arn);
  return m ? [arn, `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`] : [arn];
}

function globMatches(pattern: string, value: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`).test(value);
}

/**
 * Does the approver's own identity match one of the configured patterns (`*` matches any run of
 * characters)? An assumed-role session `arn:aws:sts::A:assumed-role/R/s` is matched as itself and
 * as `arn:aws:iam::A:role/R` (against role patterns with their path left out: see withoutRolePath).
 */
export function matchesApprover(identityArn: string, patterns: readonly string[]): boolean {
  const forms = identityForms(identityArn);
  const roleForm = forms[1];
  return patterns.some(
    (p) => forms.some((f) => globMatches(p, f)) || (!!roleForm && globMatches(withoutRolePath(p), roleForm)),
  );
}

const ROLE_WITH_PATH = /^arn:([^:]+):iam::([^:]*):role\/.+\/([^/]+)$/;

/**
 * A role pattern without its path (`role/aws-reserved/sso.amazonaws.com/X_*` -> `role/X_*`): an
 * assumed-role session ARN names the role without its path (SSO roles have one), so only the name
 * can be compared. A bare `*` name keeps its path (it would match every role of the account).
 */
function withoutRolePath(pattern: string): string {
  const m = ROLE_WITH_PATH.exec(pattern);
  return m && m[3] !== '*' ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : pattern;
}

/**
 * Is `sessionArn` a session of the Approver role? STS shows `arn:aws:sts::A:assumed-role/<name>/<s>`
 * for the role `arn:aws:iam::A:role/<path/><name>` (the path is not in the session ARN).
 */
export function isApproverSession(sessionArn: string, approverRoleArn: string): boolean {
  const s = ASSUMED_ROLE.exec(sessionArn);
  const r = /^arn:([\w-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(approverRoleArn);
  return !!s && !!r && s[1] === r[1] && s[2] === r[2] && s[3] === r[3];
}

const FINAL: readonly ProposalStatus[] = ['rejected', 'expired', 'void', 'executed'];

/** A status no decision changes any more. */
export function isFinal(status: ProposalStatus): boolean {
  return FINAL.includes(status);
}

/** Why the fleet does not honour `d` for `p` (undefined: honoured so far; duplicates are judged after). */
function whyIgnored(p: Proposal, d: Decision, policy: ApprovalPolicy): string | undefined {
  if (d.proposalId !== p.id) return `about another proposal (${d.proposalId})`;
  if (d.fingerprint !== p.fingerprint)
    return `decided on another plan (fingerprint ${d.fingerprint.slice(0, 12)}…, the proposal's is ${p.fingerprint.slice(0, 12)}…)`;
  const decided = Date.parse(d.decidedAt);
  if (Number.isNaN(decided)) return `decided at ${JSON.stringify(d.decidedAt)}, which is not a time`;
  if (decided >= Date.parse(p.expiresAt))
    return `decided at ${d.decidedAt}, at or after the expiry (${p.expiresAt})`;
  // proposal ids are predictable: a decision written ahead of the proposal is not a decision about it
  if (decided < Date.parse(p.createdAt))
    return `decided at ${d.decidedAt}, before the proposal was made (${p.createdAt})`;
  if (!isApproverSession(d.approver.sessionArn, policy.approverRoleArn))
    return `not written under the Approver role (${policy.approverRoleArn}): session ${d.approver.sessionArn}`;
  if (!matchesApprover(d.approver.arn, policy.approvers))
    return `${d.approver.arn} is not a configured approver`;
  if (policy.distinctFromProposer && d.approver.arn === p.proposedBy.principal)
    return `${d.approver.arn} proposed it (two-person rule: the approver must be someone else)`;
  return undefined;
}

/** Sort decisions by time (then approver) and split them into honoured and ignored, with the why. */
export function sortDecisions(
  p: Proposal,
  decisions: readonly Decision[],
  policy: ApprovalPolicy,
): { honoured: Decision[]; ignored: IgnoredDecision[] } {
  const ordered = [...decisions].sort(
    (a, b) => a.decidedAt.localeCompare(b.decidedAt) || a.approver.arn.localeCompare(b.approver.arn),
  );
  const honoured: Decision[] = [];
  const ignored: IgnoredDecision[] = [];
  for (const d of ordered) {
    const first = honoured.find((h) => h.approver.arn === d.approver.arn);
    const why =
      whyIgnored(p, d, policy) ??
      (first ? `duplicate vote by ${d.approver.arn} (first at ${first.decidedAt})` : undefined);
    if (why) ignored.push({ decision: d, why });
    else honoured.push(d);
  }
  return { honoured, ignored };
}

/**
 * The state of a proposal: a final stored status stands; otherwise any honoured rejection rejects,
 * past `expiresAt` it is expired (an approval not executed by then too: it never outlives the
 * proposal), `policy.required` distinct honoured approvals approve, else open. Every decision not honoured is listed
 * in `ignored` with why.
 */
export function judge(
  p: Proposal,
  decisions: readonly Decision[],
  policy: ApprovalPolicy,
  now: Date,
): Judgement {
  const { honoured, ignored } = sortDecisions(p, decisions, policy);
  const say = (state: ProposalStatus, reason: string): Judgement => ({ state, reason, honoured, ignored });
  if (isFinal(p.status)) return say(p.status, p.statusReason ? `${p.status}: ${p.statusReason}` : p.status);
  const yes = honoured.filter((d) => d.decision === 'approve');
  const count = `${yes.length} of ${policy.required}`;
  // an approval never outlives the proposal: not executed by its expiry, it expires (proposed afresh)
  if (now.getTime() >= Date.parse(p.expiresAt))
    return say(
      'expired',
      `expired at ${p.expiresAt} without ${yes.length >= policy.required ? 'being executed' : `approval (${count})`}`,
    );
  const no = honoured.find((d) => d.decision === 'reject');
  if (no) return say('rejected', `rejected by ${no.approver.arn}: ${no.reason}`);
  if (yes.length >= policy.required)
    return say('approved', `approved by ${yes.map((d) => d.approver.arn).join(', ')}`);
  const more = policy.required - yes.length;
  const needed = yes.length > 0 ? `${more} more approval(s) (${count})` : `${more} approval(s)`;
  return say('open', `waits for ${needed} from ${policy.approvers.join(', ')} (expires ${p.expiresAt})`);
}

function factValue(v: unknown): string {
  if (v === undefined) return 'absent';
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : canonicalJson(v);
}

const changeId = (c: Pick<PlannedChange, 'kind' | 'subject'>) => `${c.kind} ${subjectKey(c.subject)}`;

/** Which facts differ between one change's two plans ("sizeGiB: 100 -> 200"), or how a batch differs. */
export function describePlanChange(
  before: readonly PlannedChange[],
  after: readonly PlannedChange[],
): string {
  const [b] = before;
  const [a] = after;
  if (before.length === 1 && after.length === 1 && a && b && changeId(a) === changeId(b)) {
    const keys = [...new Set([...Object.keys(b.facts), ...Object.keys(a.facts)])].sort();
    const diff = keys
      .filter((k) => canonicalJson(b.facts[k]) !== canonicalJson(a.facts[k]))
      .map((k) => `${k}: ${factValue(b.facts[k])} -> ${factValue(a.facts[k])}`);
    return diff.length ? diff.join(', ') : 'the facts are worded differently';
  }
  const was = new Map(before.map((c) => [changeId(c), canonicalJson(c.facts)]));
  const now = new Map(after.map((c) => [changeId(c), canonicalJson(c.facts)]));
  const added = [...now.keys()].filter((k) => !was.has(k));
  const removed = [...was.keys()].filter((k) => !now.has(k));
  const changed = [...now.keys()].filter((k) => was.has(k) && was.get(k) !== now.get(k));
  const parts = [
    added.length ? `added ${added.join('; ')}` : '',
    removed.length ? `removed ${removed.join('; ')}` : '',
    changed.length ? `facts changed for ${changed.join('; ')}` : '',
  ].filter(Boolean);
  return `the planned changes differ (${before.length} -> ${after.length}): ${parts.join(', ') || 'reordered'}`;
}
