import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { ApproverIdentity } from '../../shared/approvals/model';
import { isApproverSession } from '../../shared/approvals/rules';
import { FleetwardenError } from '../../shared/core/errors';

/** The caller as AWS sees it (sts:GetCallerIdentity), before any role is assumed. */
export interface CallerIdentity {
  readonly arn: string;
  readonly account: string;
  readonly userId?: string;
  readonly requestId?: string;
}

/** A session of the Approver role, named after the approver, and how it was obtained. */
export interface ApproverSession {
  readonly identity: ApproverIdentity;
  readonly credentials: AwsCredentialIdentity;
  /** GetCallerIdentity (own), AssumeRole, GetCallerIdentity (session): the evidence of the decision. */
  readonly requestIds: readonly string[];
}

/**
 * Who approves: the approver's own identity, then a session of the Approver role under which the
 * decision is written (the decisions table accepts writes from that role only).
 */
export interface ApproverIdentityPort {
  whoAmI(): Promise<CallerIdentity>;
  assume(roleArn: string, caller: CallerIdentity): Promise<ApproverSession>;
}

/** The Approver role could not be assumed, or the session is not what it should be. */
export class ApproverRoleError extends FleetwardenError {
  override readonly name: string = 'ApproverRoleError';
}

const SESSION_NAME = { min: 2, max: 64 };

/**
 * RoleSessionName and SourceIdentity for an identity: its ARN's last path segment ("alice@example.com"
 * of an SSO session, "bob" of a user), characters STS does not accept ([\w+=,.@-] only) as "-",
 * at most 64 characters, at least 2.
 */
export function sessionNameFor(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  const last = resource.split('/').at(-1) ?? resource;
  const clean = last.replace(/[^\w+=,.@-]/g, '-').slice(0, SESSION_NAME.max);
  return clean.padEnd(SESSION_NAME.min, '-');
}

/** STS adapter: the caller's own client, and a client per assumed session's credentials. */
export class StsApproverIdentity implements ApproverIdentityPort {
  private readonly client: STSClient;
  private readonly sessionClient: (credentials: AwsCredentialIdentity) => STSClient;

  constructor(props: {
    client?: STSClient;
    region?: string;
    profile?: string;
    sessionClient?: (credentials: AwsCredentialIdentity) => STSClient;
  }) {
    const base = { ...(props.region ? { region: props.region } : {}) };
    this.client =
      props.client ?? new STSClient({ ...base, ...(props.profile ? { profile: props.profile } : {}) });
    this.sessionClient = props.sessionClient ?? ((credentials) => new STSClient({ ...base, credentials }));
  }

  async whoAmI(): Promise<CallerIdentity> {
    const out = await this.client.send(new GetCallerIdentityCommand({}));
    if (!out.Arn || !out.Account) throw new ApproverRoleError('GetCallerIdentity returned no ARN or account');
    return {
      arn: out.Arn,
      account: out.Account,
      ...(out.UserId ? { userId: out.UserId } : {}),
      ...(out.$metadata.requestId ? { requestId: out.$metadata.requestId } : {}),
    };
  }

  async assume(roleArn: string, caller: CallerIdentity): Promise<ApproverSession> {
    const name = sessionNameFor(caller.arn);
    const assumed = await this.client
      .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: name, SourceIdentity: name }))
      .catch((cause: unknown) => {
        throw new ApproverRoleError(`cannot assume the Approver role ${roleArn} as ${caller.arn}`, { cause });
      });
    const c = assumed.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new ApproverRoleError(`AssumeRole ${roleArn} returned no credentials`);
    const credentials: AwsCredentialIdentity = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
    const session = await this.sessionClient(credentials).send(new GetCallerIdentityCommand({}));
    if (!session.Arn || !isApproverSession(session.Arn, roleArn))
      throw new ApproverRoleError(`session ${session.Arn} is not a session of ${roleArn}`);
    const requestIds = [caller.requestId, assumed.$metadata.requestId, session.$metadata.requestId];
    return {
      identity: {
        arn: caller.arn,
        sessionArn: session.Arn,
        account: caller.account,
        ...(caller.userId ? { userId: caller.userId } : {}),
      },
      credentials,
      requestIds: requestIds.filter((id): id is string => !!id),
    };
  }
}
