import { createHash } from 'node:crypto';
import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  APPROVAL_SETTINGS,
  APPROVER_BOUNDS,
  type ApprovalSettings,
  isApproverPattern,
} from '../../shared/approvals/settings';
import { settingsEnv } from '../../shared/kernel/settings';
import type { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { refuseInvalidProps } from './props-validation';

/** The tables' layout (issue 12 design; the DynamoDB adapters read and write the same names). */
const PROPOSALS = { partitionKey: 'id', indexes: { byKey: 'key', byStatus: 'status' }, sortKey: 'createdAt' };
const DECISIONS = { partitionKey: 'proposalId', sortKey: 'approver' };

/** Every DynamoDB action that writes an item: the decisions table denies them to all but the Approver role. */
export const ITEM_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

export interface ApprovalsProps {
  /**
   * IAM principal ARN patterns allowed to approve (`*` wildcard in the name, literal accounts, or
   * the deploying account as a token): they alone may assume the Approver role, and only their
   * decisions are honoured.
   */
  readonly approvers: readonly string[];
  /**
   * Distinct honoured approvals a proposal needs (1 to 5).
   * @default 1
   */
  readonly required?: number;
  /**
   * Two-person rule: whoever triggered a proposal cannot approve it.
   * @default true
   */
  readonly twoPerson?: boolean;
  /**
   * How long a proposal stays open (5 minutes to 7 days).
   * @default Duration.days(1)
   */
  readonly expiry?: Duration;
  /**
   * Email addresses subscribed to the proposal topic.
   * @default - none (subscribe to ProposalTopicArn yourself)
   */
  readonly notifyEmails?: readonly string[];
  /**
   * Name of the Approver role. Fixed, so the decisions table's resource policy can name the role's
   * ARN without referring to the role (a reference would be a dependency cycle through the grants).
   * @default `fleetwarden-approver-<stack name>-<region>` (hashed when over 64 characters)
   */
  readonly approverRoleName?: string;
  /**
   * Key for both tables and the topic.
   * @default - the stack's shared FleetKey
   */
  readonly encryptionKey?: kms.IKey;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const EXPIRY = APPROVAL_SETTINGS.expiry;

function validate(scope: Construct, id: string, p: ApprovalsProps): void {
  const problems: string[] = [];
  if (p.approvers.length === 0) problems.push('approvers must name at least one principal, got []');
  p.approvers.forEach((a, i) => {
    if (!Token.isUnresolved(a) && !isApproverPattern(a)) problems.push(`approvers[${i}] must be ${APPROVER_BOUNDS}, got "${a}"`);
  });
  const r = p.required;
  if (r !== undefined && !APPROVAL_SETTINGS.required.value.safeParse(r).success)
    problems.push(`required must be an integer from 1 to 5, got ${r}`);
  const e = p.expiry?.toSeconds();
  if (e !== undefined && !EXPIRY.value.safeParse(e).success)
    problems.push(`expiry must be ${EXPIRY.bounds?.replace('..', ' to ')} seconds, got ${e}`);
  (p.notifyEmails ?? []).forEach((m, i) => {
    if (!EMAIL.test(m)) problems.push(`notifyEmails[${i}] must be an email address, got "${m}"`);
  });
  const n = p.approverRoleName;
  if (n !== undefined && !Token.isUnresolved(n) && !ROLE_NAME.test(n))
    problems.push(`approverRoleName must be 1 to 64 characters of letters, digits and +=,.@_-, got "${n}"`);
  refuseInvalidProps('Approvals', scope, id, problems);
}

/** The default Approver role name: per stack and region (IAM is global), at most 64 characters. */
function defaultRoleName(stack: Stack): string {
  const name = `fleetwarden-approver-${stack.stackName}-${stack.region}`;
  if (Token.isUnresolved(stack.region) || name.length <= 64) return name;
  const hash = createHash('sha256').update(`${stack.stackName}/${stack.region}`).digest('hex').slice(0, 16);
  return `fleetwarden-approver-${hash}`;
}

/**
 * The approver patterns as IAM evaluates `aws:PrincipalArn` in a trust policy: a role session's is
 * its role's ARN, so an assumed-role session pattern is trusted in its role's form (the fleet checks
 * the session itself when it judges a decision).
 */
export function trustedPrincipalArns(approvers: readonly string[]): string[] {
  const asRole = (a: string) =>
    a.replace(/^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.*$/, 'arn:$1:iam::$2:role/$3');
  return [...new Set(approvers.map(asRole))];
}

/** The root ARNs of the approver patterns' accounts (the trust policy's principals), in their partition. */
function accountRootsOf(approvers: readonly string[]): string[] {
  return [
    ...new Set(
      approvers.map((a) => {
        const [, partition, , , account] = a.split(':');
        return `arn:${partition}:iam::${account}:root`;
      }),
    ),
  ];
}

/**
 * Human approval of irreversible actions (issue 12): the proposals table fleet functions write,
 * the decisions table only the Approver role can write (its IAM, and the table's resource policy
 * denying every item write to any other principal), the proposal topic, and the Approver role the
 * `fleetwarden approve|reject` CLI assumes: trusted only by the configured approvers, with a source
 * identity. `grantPropose` gives a gated function the approval settings and exactly its calls.
 */
export class Approvals extends Construct {
  readonly proposalsTable: dynamodb.Table;
  readonly decisionsTable: dynamodb.Table;
  readonly topic: sns.Topic;
  readonly approverRole: iam.Role;
  /** The Approver role's fixed name and ARN (written without a reference to the role). */
  readonly approverRoleName: string;
  readonly approverRoleArn: string;
  readonly key: kms.IKey;
  private readonly settings: Omit<ApprovalSettings, 'proposalsTable' | 'decisionsTable' | 'topicArn'>;

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    validate(scope, id, props);
    super(scope, id);
    const stack = Stack.of(this);
    this.key = props.encryptionKey ?? fleetKey(this);
    this.approverRoleName = props.approverRoleName ?? defaultRoleName(stack);
    this.approverRoleArn = stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: this.approverRoleName,
    });
    this.settings = {
      approverRoleArn: this.approverRoleArn,
      approvers: [...props.approvers],
      required: props.required ?? (APPROVAL_SETTINGS.required.default as number),
      twoPerson: props.twoPerson ?? (APPROVAL_SETTINGS.twoPerson.default as boolean),
      expiry: props.expiry?.toSeconds() ?? (EXPIRY.default as number),
    };
    this.proposalsTable = this.addProposalsTable();
    this.decisionsTable = this.addDecisionsTable();
    this.topic = new sns.Topic(this, 'ProposalTopic', {
      displayName: 'fleetwarden proposals',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.notifyEmails ?? [])
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.approverRole = this.addApproverRole(props);
    this.addOutputs();
  }

  private table(id: string, o: Pick<dynamodb.TableProps, 'partitionKey' | 'sortKey' | 'resourcePolicy'>) {
    return new dynamodb.Table(this, id, {
      ...o,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private addProposalsTable(): dynamodb.Table {
    const S = dynamodb.AttributeType.STRING;
    const table = this.table('ProposalsTable', { partitionKey: { name: PROPOSALS.partitionKey, type: S } });
    for (const [indexName, pk] of Object.entries(PROPOSALS.indexes))
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: pk, type: S },
        sortKey: { name: PROPOSALS.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    return table;
  }

  /** Decisions: written only under the Approver role (the resource policy holds even against admins' IAM). */
  private addDecisionsTable(): dynamodb.Table {
    const S = dynamodb.AttributeType.STRING;
    return this.table('DecisionsTable', {
      partitionKey: { name: DECISIONS.partitionKey, type: S },
      sortKey: { name: DECISIONS.sortKey, type: S },
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'OnlyTheApproverRoleWritesDecisions',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: [...ITEM_WRITE_ACTIONS],
            // a resource policy names its own table as "*" (a reference to it would be a cycle)
            resources: ['*'],
            conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.approverRoleArn } },
          }),
        ],
      }),
    });
  }

  private addApproverRole(props: ApprovalsProps): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'ApproverRole', {
      roleName: this.approverRoleName,
      assumedBy: new ApproverPrincipals(props.approvers),
      description:
        'fleetwarden approve|reject: writes decisions about proposals; trusted only by the configured approvers',
      maxSessionDuration: Duration.hours(1),
    });
    const grant = (actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    grant(['dynamodb:GetItem', 'dynamodb:Query'], this.proposalsArns());
    // PutItem with attribute_not_exists (never overwrite) is the CLI's; IAM cannot require the condition
    grant(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'], [this.decisionsTable.tableArn]);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
      }),
    );
    return role;
  }

  /** The proposals table and its indexes, named (no index wildcard). */
  private proposalsArns(): string[] {
    const t = this.proposalsTable.tableArn;
    return [t, ...Object.keys(PROPOSALS.indexes).map((i) => `${t}/index/${i}`)];
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApproverRoleArn', {
      value: this.approverRoleArn,
      description: 'fleetwarden approve|reject assume this role (FLEETWARDEN_APPROVER_ROLE_ARN)',
    });
    new CfnOutput(this, 'ProposalsTableName', {
      value: this.proposalsTable.tableName,
      description: 'Proposals waiting for a decision (fleetwarden proposals)',
    });
    new CfnOutput(this, 'DecisionsTableName', {
      value: this.decisionsTable.tableName,
      description: 'Decisions, written only under the Approver role',
    });
    new CfnOutput(this, 'ProposalTopicArn', {
      value: this.topic.topicArn,
      description: 'Subscribe on-call here to be asked for approvals',
    });
  }

  /**
   * A function that asks the approval gate: the approval settings in its environment, and exactly
   * the calls of the gate's adapters: proposals GetItem/PutItem/UpdateItem/Query, decisions
   * GetItem/Query (never a write), sns:Publish on the topic, the key through DynamoDB and SNS.
   */
  grantPropose(fn: FleetFunction): void {
    const env = settingsEnv(APPROVAL_SETTINGS, {
      ...this.settings,
      proposalsTable: this.proposalsTable.tableName,
      decisionsTable: this.decisionsTable.tableName,
      topicArn: this.topic.topicArn,
    });
    for (const [k, v] of Object.entries(env)) fn.addEnvironment(k, v);
    const region = Stack.of(this).region;
    fn.allow({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: this.proposalsArns(),
    });
    fn.allow({ actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [this.decisionsTable.tableArn] });
    fn.allow({ actions: ['sns:Publish'], resources: [this.topic.topicArn] });
    fn.allow({
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [this.key.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': [`dynamodb.${region}.amazonaws.com`, `sns.${region}.amazonaws.com`],
        },
      },
    });
  }

  /** Read proposals and decisions (the read-only CLI: proposals, show, timeline). */
  grantRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resourceArns: [...this.proposalsArns(), this.decisionsTable.tableArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }
}

/**
 * The Approver role's trust: the approvers' accounts as principals, `aws:PrincipalArn` limited to
 * the approver patterns, and a source identity required (sts:SetSourceIdentity allowed, and the
 * assume refused without one), so CloudTrail ties every decision to the person behind the session.
 */
class ApproverPrincipals extends iam.PrincipalBase implements iam.IAssumeRolePrincipal {
  private readonly accounts: iam.CompositePrincipal;

  constructor(private readonly approvers: readonly string[]) {
    super();
    const [first, ...rest] = accountRootsOf(approvers).map((a) => new iam.ArnPrincipal(a));
    this.accounts = new iam.CompositePrincipal(...(first ? [first, ...rest] : []));
  }

  get policyFragment(): iam.PrincipalPolicyFragment {
    return this.accounts.policyFragment;
  }

  addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        principals: [this.accounts],
        conditions: {
          ArnLike: { 'aws:PrincipalArn': trustedPrincipalArns(this.approvers) },
          Null: { 'sts:SourceIdentity': 'false' },
        },
      }),
    );
  }
}
