import type { Subject } from '../audit/schema';
import type { ApprovalGate, ApprovalRequest, ApprovalVerdict } from '../kernel/approval';
import type { Noted } from '../kernel/definition';
import { ProposalNotifyError, ProposalStoreError } from './errors';
import type { ApprovalPolicy, Judgement, Proposal } from './model';
import type { DecisionReader, ProposalNotifier, ProposalStore } from './port';
import { describePlanChange, fingerprint, isFinal, judge, proposalId, proposalKey } from './rules';

/** What the gate reads and writes: never a DecisionWriter (fleet functions cannot decide). */
export interface GatePorts {
  readonly proposals: ProposalStore;
  readonly decisions: DecisionReader;
  readonly notifier: ProposalNotifier;
}

/**
 * The approval gate of deployed approvals (design: shared/approvals/README.md). An irreversible
 * action, or a refused run, becomes a proposal keyed by what it is about; the gate answers from the
 * newest proposal of that key and its honoured decisions: proposed / waits / void + fresh (facts
 * changed) / rejected / expired + fresh / approved (execution claimed once, settled by the kernel).
 * Every change of a proposal's status is returned as a note for the run's audit trail.
 */
export function proposalGate(ports: GatePorts, policy: ApprovalPolicy, now: () => Date): ApprovalGate {
  return new ProposalGate(ports, policy, now);
}

/** One check: the request, its key and fingerprint, and the time it is judged at. */
interface Ask {
  readonly req: ApprovalRequest;
  readonly key: string;
  readonly fingerprint: string;
  readonly at: string;
}

type Refusal = Extract<ApprovalVerdict, { approved: false }>;

/** Conditional writes lost to a concurrent run are retried from a fresh read this many times. */
const ATTEMPTS = 3;

class ProposalGate implements ApprovalGate {
  constructor(
    private readonly ports: GatePorts,
    private readonly policy: ApprovalPolicy,
    private readonly now: () => Date,
  ) {}

  async check(req: ApprovalRequest): Promise<ApprovalVerdict> {
    const ask: Ask = {
      req,
      key: proposalKey(req),
      fingerprint: fingerprint(req.changes),
      at: this.now().toISOString(),
    };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [newest] = await this.ports.proposals.byKey(ask.key);
      const verdict = await this.decideOn(ask, newest, []);
      if (verdict) return verdict;
    }
    throw new ProposalStoreError(
      `proposals of ${ask.key} kept changing under this run (${ATTEMPTS} attempts); it is retried`,
      { cause: new Error('conditional write lost to a concurrent run') },
    );
  }

  /** The verdict from the newest proposal of the key; undefined when a concurrent run moved it first. */
  private async decideOn(
    ask: Ask,
    p: Proposal | undefined,
    notes: Noted[],
  ): Promise<ApprovalVerdict | undefined> {
    if (!p) return this.propose(ask, undefined, notes);
    // what an approver was shown (the stored changes) must be what the fingerprint binds
    if (!isFinal(p.status) && fingerprint(p.changes) !== p.fingerprint)
      return this.voidAndPropose(
        ask,
        p,
        notes,
        'tampered: its stored changes do not hash to its fingerprint',
      );
    const same = p.fingerprint === ask.fingerprint;
    if (isFinal(p.status)) {
      if (same && p.status === 'rejected')
        return refuse(p, `proposal ${p.id} ${p.statusReason ?? 'rejected'}`, notes);
      if (same && p.status === 'executed') return refuse(p, alreadyExecuted(p), notes);
      return this.propose(ask, p, notes);
    }
    // an execution in flight (claimed by another record, not settled) is never voided under it
    if (inFlight(p, ask)) return refuse(p, notClaimed(p), notes);
    if (!same) return this.voidAndPropose(ask, p, notes);
    const j = judge(p, await this.ports.decisions.decisions(p.id), this.policy, new Date(ask.at));
    if (j.state === 'approved') return this.execute(ask, p, j, notes);
    if (j.state === 'rejected' || j.state === 'expired') {
      if (!(await this.ports.proposals.transition(p.id, ['open', 'approved'], j.state, j.reason, ask.at)))
        return undefined;
      const noted = [...notes, note(ask, `approval.${j.state}`, `proposal ${p.id} ${j.reason}`, p, j)];
      if (j.state === 'expired') return this.propose(ask, p, noted);
      return refuse(p, `proposal ${p.id} ${j.reason}${ignoredText(j)}`, noted);
    }
    return refuse(p, `proposal ${p.id} ${j.reason}${commands(p.id)}${ignoredText(j)}`, notes);
  }

  /** The plan changed: the proposal (open or approved) is void, a fresh one supersedes it. */
  private async voidAndPropose(
    ask: Ask,
    p: Proposal,
    notes: Noted[],
    cause = `facts changed: ${describePlanChange(p.changes, ask.req.changes)}`,
  ): Promise<ApprovalVerdict | undefined> {
    const fresh = this.build(ask, p, p.id);
    const why = `${cause}; superseded by ${fresh.id}`;
    if (!(await this.ports.proposals.transition(p.id, ['open', 'approved'], 'void', why, ask.at)))
      return undefined;
    return this.create(ask, fresh, [
      ...notes,
      note(ask, 'approval.void', `proposal ${p.id} is void: ${why}`, p),
    ]);
  }

  private propose(
    ask: Ask,
    previous: Proposal | undefined,
    notes: Noted[],
  ): Promise<ApprovalVerdict | undefined> {
    const supersedes = previous?.status === 'void' ? previous.id : undefined;
    return this.create(ask, this.build(ask, previous, supersedes), notes);
  }

  /** Store and announce a new proposal; a concurrent run that made the same one first answers for it. */
  private async create(ask: Ask, p: Proposal, notes: Noted[]): Promise<ApprovalVerdict | undefined> {
    if ((await this.ports.proposals.create(p)) === 'exists') {
      const stored = await this.ports.proposals.get(p.id);
      return this.decideOn(ask, stored, notes);
    }
    await this.announce(p, ask.at);
    const j = judge(p, [], this.policy, new Date(ask.at));
    const made = `proposal ${p.id} made${p.supersedes ? ` (replaces ${p.supersedes})` : ''}: ${p.summary}`;
    const reason = `${made}; ${j.reason}${commands(p.id)}`;
    return refuse(p, reason, [...notes, note(ask, 'approval.proposed', reason, p)]);
  }

  /** Tell humans; an unannounced proposal is void (nobody would decide it) so the retry proposes afresh. */
  private async announce(p: Proposal, at: string): Promise<void> {
    try {
      await this.ports.notifier.proposed(p);
    } catch (err) {
      const why = `could not be announced: ${(err as Error).message}`;
      try {
        await this.ports.proposals.transition(p.id, ['open'], 'void', why, at);
      } catch (voidErr) {
        throw new ProposalNotifyError(
          `proposal ${p.id} ${why}; voiding it failed too: ${(voidErr as Error).message}`,
          {
            cause: err,
          },
        );
      }
      throw err instanceof ProposalNotifyError
        ? err
        : new ProposalNotifyError(`proposal ${p.id} ${why}`, { cause: err });
    }
  }

  /** Approved: claim the execution for the asking record; only the claimant acts (once). */
  private async execute(ask: Ask, p: Proposal, j: Judgement, notes: Noted[]): Promise<ApprovalVerdict> {
    const { proposals } = this.ports;
    // a lost transition is fine: the claim below is conditional on the stored status being approved
    if (p.status === 'open') await proposals.transition(p.id, ['open'], 'approved', j.reason, ask.at);
    const claimant = ask.req.claimant;
    if (!(await proposals.claimExecution(p.id, claimant, ask.at))) {
      const stored = (await proposals.get(p.id)) ?? p;
      return refuse(stored, notClaimed(stored), notes);
    }
    const approvals = j.honoured.filter((d) => d.decision === 'approve');
    return {
      approved: true,
      proposalId: p.id,
      by: approvals.map((d) => d.approver.arn),
      decisions: approvals,
      settle: (outcome) => proposals.settleExecution(p.id, claimant, outcome, this.now().toISOString()),
      ...(notes.length ? { notes } : {}),
    };
  }

  /** The proposal for this ask; its id follows from the key, the plan and the proposal it follows. */
  private build(ask: Ask, previous: Proposal | undefined, supersedes?: string): Proposal {
    const { req } = ask;
    const id = proposalId(ask.key, ask.fingerprint, previous?.id ?? '');
    const expiresAt = new Date(Date.parse(ask.at) + this.policy.expirySeconds * 1000).toISOString();
    const actions = [...new Set(req.changes.map((c) => c.action))].join(', ');
    return {
      id,
      function: req.function,
      key: ask.key,
      why: req.why,
      summary: req.summary ?? summaryOf(req),
      reason: req.reason,
      changes: req.changes.map((c) => structuredClone(c)),
      blastRadius: req.blastRadius ?? { count: req.changes.length, what: actions },
      fingerprint: ask.fingerprint,
      evidence: {
        triggerId: req.triggerId,
        auditRecordIds: [...(req.evidence?.auditRecordIds ?? [])],
        cloudTrailEventIds: [...(req.evidence?.cloudTrailEventIds ?? [])],
      },
      proposedBy: {
        function: req.function,
        trigger: req.trigger,
        ...(req.principal ? { principal: req.principal } : {}),
      },
      createdAt: ask.at,
      expiresAt,
      status: 'open',
      ...(supersedes ? { supersedes } : {}),
    };
  }
}

/** One line: the single change ("volume.delete i-0…: <reason>") or the batch ("12 changes: 12 runner.deregister"). */
function summaryOf(req: ApprovalRequest): string {
  const [only] = req.changes;
  if (req.changes.length === 1 && only)
    return `${only.action} ${Object.values(only.subject).join(' ')}: ${only.reason}`;
  const counts = new Map<string, number>();
  for (const c of req.changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  const what = [...counts].map(([action, n]) => `${n} ${action}`).join(', ');
  return `${req.changes.length} changes (${what}) the ${req.why} refused`;
}

const commands = (id: string) =>
  `; approve with: fleetwarden approve ${id} --reason "…" (or reject: fleetwarden reject ${id} --reason "…"; details: fleetwarden show ${id})`;

function ignoredText(j: Judgement): string {
  if (!j.ignored.length) return '';
  return `; ignored: ${j.ignored.map((i) => `${i.decision.approver.arn}: ${i.why}`).join('; ')}`;
}

function alreadyExecuted(p: Proposal): string {
  return `proposal ${p.id} already executed by record ${p.execution?.recordId ?? 'unknown'} at ${p.execution?.at ?? p.statusAt}`;
}

/** No run lasts longer than this (Lambda's maximum timeout): an older unsettled claim is a dead run's. */
const LONGEST_RUN_MS = 15 * 60_000;

/** Another record claimed the execution and may be acting right now (claimed, not settled, recently). */
function inFlight(p: Proposal, ask: Ask): boolean {
  const e = p.execution;
  if (p.status !== 'approved' || !e || e.outcome !== undefined || e.recordId === ask.req.claimant)
    return false;
  return Date.parse(ask.at) - Date.parse(e.claimedAt) < LONGEST_RUN_MS;
}

function notClaimed(p: Proposal): string {
  if (p.status === 'executed') return alreadyExecuted(p);
  if (p.status === 'approved' && p.execution)
    return `proposal ${p.id} is approved and its execution is claimed by record ${p.execution.recordId} since ${p.execution.claimedAt} (outcome not recorded yet): not acting twice`;
  return `proposal ${p.id} is ${p.status}${p.statusReason ? `: ${p.statusReason}` : ''}`;
}

/** The subject a proposal's notes are recorded under: its change's, or the run's for a batch. */
function noteSubject(ask: Ask): Subject {
  const [first] = ask.req.changes;
  return ask.key.endsWith('#run') || !first ? { runnerName: `${ask.req.function}:run` } : first.subject;
}

function note(ask: Ask, audit: string, reason: string, p: Proposal, j?: Judgement): Noted {
  const ignored = j?.ignored.map((i) => ({
    approver: i.decision.approver.arn,
    session: i.decision.approver.sessionArn,
    why: i.why,
  }));
  return {
    kind: 'note',
    audit,
    decision: 'reported',
    subject: noteSubject(ask),
    reason,
    details: {
      proposalId: p.id,
      key: p.key,
      fingerprint: p.fingerprint,
      expiresAt: p.expiresAt,
      ...(p.supersedes ? { supersedes: p.supersedes } : {}),
      ...(ignored?.length ? { ignored } : {}),
    },
  };
}

function refuse(p: Proposal, reason: string, notes: readonly Noted[]): Refusal {
  return { approved: false, reason, proposalId: p.id, ...(notes.length ? { notes } : {}) };
}
