import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { auditCorrelate } from '../../functions/audit-correlate/definition';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { AUDIT_TABLE, type SubjectIndexName } from '../../shared/audit/table-design';
import { type SettingsOf, settingsEnv } from '../../shared/kernel/settings';
import type { AuditAccess } from './audit-access';
import { FleetFunction } from './fleet-function';
import { defaultOf, scheduleOf, settingProblems } from './from-definition';
import { refuseInvalidProps } from './props-validation';
import { remediationPermissions } from './remediation-function';
import { functionTarget, scheduleDelivery } from './rule-targets';

/** The indexes `fleetwarden timeline` queries (store-port indexesFor): the Investigator's only reads. */
const SUBJECT_INDEXES: SubjectIndexName[] = ['byInstance', 'byRunner', 'byRecordName'];

export interface AuditTrailProps {
  /** Topic the correlator's alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Who may assume the Investigator role.
   * @default - the account root principal: nobody can assume it until an IAM policy in this
   *   account grants sts:AssumeRole on it (e.g. to the on-call SSO permission set). No external id:
   *   it is for people in this account, not a third party.
   */
  readonly investigatorPrincipal?: iam.IPrincipal;
  /**
   * Days an audit record is kept before DynamoDB TTL removes it (AUDIT_RETENTION_DAYS of writers).
   * @default 400
   */
  readonly retentionDays?: number;
  /**
   * How often audit-correlate runs.
   * @default Duration.minutes(5)
   */
  readonly correlationSchedule?: Duration;
  /**
   * How long after a record's time correlation keeps trying before marking it unresolved.
   * @default Duration.hours(6)
   */
  readonly correlationDeadline?: Duration;
  /**
   * Customer-managed KMS key for the table.
   * @default - a dedicated key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
}

function validate(scope: Construct, id: string, props: AuditTrailProps): void {
  const problems: string[] = [];
  const days = props.retentionDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
    problems.push(`retentionDays must be an integer from 1 to 3650, got ${days}`);
  const every = props.correlationSchedule?.toSeconds();
  if (every !== undefined && (every < 60 || every > 3600 || every % 60 !== 0))
    problems.push(`correlationSchedule must be 1 to 60 minutes, got ${every / 60} min`);
  const deadline = props.correlationDeadline?.toMinutes({ integral: false });
  problems.push(
    ...settingProblems(
      'correlationDeadline',
      auditCorrelate.settings.deadlineMinutes,
      deadline,
      `${deadline} min`,
    ),
  );
  refuseInvalidProps('AuditTrail', scope, id, problems);
}

/**
 * The audit store and the evidence around it: the audit table (layout in
 * shared/audit/table-design.ts), the scheduled audit-correlate function that ties records to
 * CloudTrail events, and the read-only Investigator role the `fleetwarden` CLI runs under.
 */
export class AuditTrail extends Construct implements AuditAccess {
  readonly table: dynamodb.Table;
  readonly key: kms.IKey;
  readonly tableName: string;
  readonly correlator: FleetFunction;
  readonly investigatorRole: iam.Role;
  private readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    validate(scope, id, props);
    super(scope, id);
    const stack = Stack.of(this);
    this.retentionDays = props.retentionDays ?? 400;
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'TableKey', {
        description: `fleetwarden ${stack.stackName}: audit table`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.table = this.auditTable(this.key);
    this.tableName = this.table.tableName;
    const viaDynamoDb = { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } };
    this.correlator = this.correlateFunction(props, viaDynamoDb);
    this.investigatorRole = new iam.Role(this, 'Investigator', {
      assumedBy: props.investigatorPrincipal ?? new iam.AccountRootPrincipal(),
      description:
        'fleetwarden CLI (timeline, posture, mcp): read-only access to audit records, CloudTrail and encryption settings',
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: { ReadOnlyEvidence: this.readOnlyEvidence(stack, viaDynamoDb) },
    });
    this.acknowledgeInvestigatorWildcards(stack);
    new CfnOutput(this, 'AuditTableName', {
      value: this.table.tableName,
      description: 'FLEETWARDEN_AUDIT_TABLE for the CLI',
    });
    new CfnOutput(this, 'InvestigatorRoleArn', {
      value: this.investigatorRole.roleArn,
      description: 'Assume this role to run the fleetwarden CLI',
    });
  }

  /** The audit table (layout in shared/audit/table-design.ts), retained and protected from deletion. */
  private auditTable(key: kms.IKey): dynamodb.Table {
    const table = new dynamodb.Table(this, 'AuditTable', {
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: AUDIT_TABLE.ttlAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(AUDIT_TABLE.indexes)) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  /** audit-correlate, its permissions and its schedule. */
  private correlateFunction(
    props: AuditTrailProps,
    viaDynamoDb: Record<string, Record<string, unknown>>,
  ): FleetFunction {
    const S = auditCorrelate.settings;
    const values: Partial<SettingsOf<typeof S>> = {
      auditTable: this.table.tableName,
      deadlineMinutes: props.correlationDeadline?.toMinutes() ?? defaultOf(S.deadlineMinutes),
    };
    const correlator = new FleetFunction(this, 'Correlate', {
      entry: fileURLToPath(new URL('../../functions/audit-correlate/index.ts', import.meta.url)),
      description: 'Ties pending audit records to the CloudTrail events of their calls and triggers',
      alarmTopic: props.alarmTopic,
      timeout: Duration.minutes(5),
      // one correlator at a time: LookupEvents allows 2 requests/s per account and region
      reservedConcurrentExecutions: 1,
      environment: settingsEnv(S, values),
    });
    // its declared reads (LookupEvents, the pending-correlation index, UpdateItem on the table);
    // the table's key is the construct's
    for (const p of remediationPermissions(auditCorrelate, values as SettingsOf<typeof S>, this))
      correlator.allow(p);
    correlator.allow({
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [this.key.keyArn],
      conditions: viaDynamoDb,
    });
    const correlateEvery = props.correlationSchedule ?? Duration.minutes(scheduleOf(auditCorrelate.triggers));
    new events.Rule(this, 'CorrelateSchedule', {
      description: 'Runs audit-correlate',
      schedule: events.Schedule.rate(correlateEvery),
      targets: [functionTarget(correlator, scheduleDelivery(correlateEvery))],
    });
    return correlator;
  }

  /** The Investigator's only policy: what the CLI reads (timeline, mcp, posture, doctor), nothing it could change. */
  private readOnlyEvidence(
    stack: Stack,
    viaDynamoDb: Record<string, Record<string, unknown>>,
  ): iam.PolicyDocument {
    return new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          // timeline reads a subject's records with Query on its index (DynamoDbAuditStore.timeline)
          sid: 'AuditRecords',
          actions: ['dynamodb:Query'],
          resources: SUBJECT_INDEXES.map(
            (i) => `${this.table.tableArn}/index/${AUDIT_TABLE.indexes[i].name}`,
          ),
        }),
        new iam.PolicyStatement({
          // `fleetwarden mcp` explains one record by its id (DynamoDbAuditStore.record)
          sid: 'AuditRecordById',
          actions: ['dynamodb:GetItem'],
          resources: [this.table.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'AuditTableSettings',
          actions: ['dynamodb:DescribeTable'],
          resources: [this.table.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadAuditTableThroughDynamoDb',
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: viaDynamoDb,
        }),
        new iam.PolicyStatement({
          sid: 'CloudTrailEvents',
          actions: ['cloudtrail:LookupEvents'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'EbsEncryption',
          actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:GetEbsEncryptionByDefault'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'FleetLogGroups',
          actions: ['logs:DescribeLogGroups'],
          resources: [`arn:${stack.partition}:logs:*:${stack.account}:log-group:*`],
        }),
        new iam.PolicyStatement({ sid: 'ListQueues', actions: ['sqs:ListQueues'], resources: ['*'] }),
        new iam.PolicyStatement({
          // fleetwarden doctor: each runner group has the fleet's lifecycle hook
          sid: 'DoctorLifecycleHooks',
          actions: ['autoscaling:DescribeLifecycleHooks'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          // fleetwarden doctor: the stack's outputs (DescribeStacks), this stack only
          sid: 'DoctorStackOutputs',
          actions: ['cloudformation:DescribeStacks'],
          resources: [stack.stackId],
        }),
        new iam.PolicyStatement({
          // fleetwarden doctor: the stack's alarms in ALARM (DescribeAlarms by name prefix)
          sid: 'DoctorAlarms',
          actions: ['cloudwatch:DescribeAlarms'],
          resources: [`arn:${stack.partition}:cloudwatch:*:${stack.account}:alarm:*`],
        }),
        new iam.PolicyStatement({
          // fleetwarden doctor: when the correlator last ran (its newest log stream)
          sid: 'DoctorFleetLogStreams',
          actions: ['logs:DescribeLogStreams'],
          resources: [`arn:${stack.partition}:logs:*:${stack.account}:log-group:${stack.stackName}*`],
        }),
        new iam.PolicyStatement({
          sid: 'FleetQueues',
          actions: ['sqs:GetQueueAttributes'],
          resources: [`arn:${stack.partition}:sqs:*:${stack.account}:${stack.stackName}*`],
        }),
      ],
    });
  }

  /** Read-only actions whose resources cannot be narrowed further (each reason says why). */
  private acknowledgeInvestigatorWildcards(stack: Stack): void {
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    // a known region makes the partition a literal (feature flag enablePartitionLiterals)
    const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
    const acknowledgements: [string, string][] = [
      [
        'Resource::*',
        'Read-only only: cloudtrail:LookupEvents, ec2:DescribeVolumes/DescribeSnapshots/GetEbsEncryptionByDefault, sqs:ListQueues and autoscaling:DescribeLifecycleHooks support no resource-level permissions (Service Authorization Reference).',
      ],
      [
        `Resource::arn:${partition}:logs:*:${account}:log-group:${stack.stackName}*`,
        "logs:DescribeLogStreams on the fleet's own log groups (CloudFormation names them after the stack), for fleetwarden doctor. Read-only.",
      ],
      [
        `Resource::arn:${partition}:cloudwatch:*:${account}:alarm:*`,
        "cloudwatch:DescribeAlarms lists alarms, so it is authorised on alarm:* only; fleetwarden doctor asks for the stack's prefix (CloudFormation names the fleet's alarms after the stack). Read-only.",
      ],
      [
        `Resource::arn:${partition}:logs:*:${account}:log-group:*`,
        'logs:DescribeLogGroups is authorised on log-group:* only; the CLI filters by the stack prefix. Read-only.',
      ],
      [
        `Resource::arn:${partition}:sqs:*:${account}:${stack.stackName}*`,
        "sqs:GetQueueAttributes on the fleet's own queues (CloudFormation names them after the stack), in any region the posture scan covers. Read-only.",
      ],
    ];
    for (const [appliesTo, reason] of acknowledgements) {
      Validations.of(this.investigatorRole).acknowledge({ id: `AwsSolutions-IAM5[${appliesTo}]`, reason });
    }
  }

  /**
   * Let `grantee` write audit records and nothing else: dynamodb:PutItem on the table (what
   * DynamoDbAuditSink does) and the table key through DynamoDB only. A FleetFunction also gets
   * AUDIT_TABLE_NAME and AUDIT_RETENTION_DAYS.
   */
  grantWrite(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:PutItem'], resourceArns: [this.table.tableArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
    if (FleetFunction.isFleetFunction(grantee)) {
      grantee.addEnvironment(AUDIT_TABLE_ENV, this.table.tableName);
      grantee.addEnvironment('AUDIT_RETENTION_DAYS', String(this.retentionDays));
    }
  }
}
