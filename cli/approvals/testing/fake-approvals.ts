import type { Decision } from '../../../shared/approvals/model';
import { InMemoryDecisionStore } from '../../../shared/approvals/testing/in-memory-decision-store';
import { InMemoryProposalStore } from '../../../shared/approvals/testing/in-memory-proposal-store';
import {
  type ApproverIdentityPort,
  ApproverRoleError,
  type ApproverSession,
  type CallerIdentity,
  sessionNameFor,
} from '../approver-identity';
import type { ApprovalsAt, ApprovalsAws, SessionDecisionWriter } from '../port';

/**
 * STS in memory: the caller is `callerArn`; assuming a role gives a session of it named as STS
 * would name it (the sanitised last segment of the caller); `deny` makes AssumeRole fail as IAM does.
 */
export class FakeApproverIdentity implements ApproverIdentityPort {
  callerArn = 'arn:aws:sts::123456789012:assumed-role/OnCall/alice';
  deny: string | undefined;
  readonly assumed: { roleArn: string; sessionName: string }[] = [];
  private requests = 0;

  async whoAmI(): Promise<CallerIdentity> {
    const account = this.callerArn.split(':')[4] ?? '';
    return { arn: this.callerArn, account, requestId: this.requestId('sts-who') };
  }

  async assume(roleArn: string, caller: CallerIdentity): Promise<ApproverSession> {
    if (this.deny)
      throw new ApproverRoleError(`cannot assume the Approver role ${roleArn} as ${caller.arn}`, {
        cause: Object.assign(new Error(this.deny), { name: 'AccessDenied' }),
      });
    const sessionName = sessionNameFor(caller.arn);
    this.assumed.push({ roleArn, sessionName });
    const [, , , , account, resource] = roleArn.split(':');
    const roleName = resource?.split('/').at(-1);
    return {
      identity: {
        arn: caller.arn,
        sessionArn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
        account: caller.account,
      },
      credentials: { accessKeyId: 'ASIAFAKE', secretAccessKey: 'fake', sessionToken: 'fake' },
      requestIds: [
        caller.requestId ?? '',
        this.requestId('sts-assume'),
        this.requestId('sts-session'),
      ].filter(Boolean),
    };
  }

  private requestId(what: string): string {
    this.requests += 1;
    return `${what}-${String(this.requests).padStart(4, '0')}`;
  }
}

/** Every approvals port in memory, for the commands' tests and the README example. */
export class FakeApprovals {
  /** Stack outputs by stack name. */
  readonly outputs = new Map<string, Record<string, string>>();
  readonly proposals = new InMemoryProposalStore();
  readonly decisions: InMemoryDecisionStore;
  readonly identity = new FakeApproverIdentity();
  /** Every region/profile the commands asked for. */
  readonly at: ApprovalsAt[] = [];
  /** Tables the commands opened: `proposals:<name>`, `decisions:<name>`, `writer:<name>`. */
  readonly opened: string[] = [];
  private puts = 0;

  constructor(approverRoleArn?: string) {
    this.decisions = new InMemoryDecisionStore(approverRoleArn ? { approverRoleArn } : {});
  }

  readonly wiring = (at: ApprovalsAt): ApprovalsAws => {
    this.at.push(at);
    return {
      stackOutputs: async (name) => this.outputs.get(name),
      proposals: (table) => {
        this.opened.push(`proposals:${table}`);
        return this.proposals;
      },
      decisions: (table) => {
        this.opened.push(`decisions:${table}`);
        return this.decisions;
      },
      identity: () => this.identity,
      writer: (table, session) => {
        this.opened.push(`writer:${table}`);
        return this.writer(session);
      },
    };
  };

  private writer(session: ApproverSession): SessionDecisionWriter {
    const store = this.decisions.as(session.identity.sessionArn);
    const ids: string[] = [];
    return {
      decide: async (d: Decision) => {
        this.puts += 1;
        ids.push(`ddb-put-${String(this.puts).padStart(4, '0')}`);
        return store.decide(d);
      },
      requestIds: () => [...ids],
    };
  }
}
