import { fileURLToPath } from 'node:url';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dnsReconcile } from '../../functions/dns-reconcile/definition';
import { dnsSync } from '../../functions/dns-sync/definition';
import { DNS_SYNC_BATCHING } from '../../shared/dns/batching';
import { DNS_SETTINGS, dnsRoleName } from '../../shared/dns/settings';
import { type DnsZoneInput, ZoneSet, zoneSetProblems, zonesSettingValue } from '../../shared/dns/zone-set';
import { type SettingsOf, settingsEnv } from '../../shared/kernel/settings';
import type { AuditAccess } from './audit-access';
import { deadLetterAlarm, deadLetterQueue } from './dead-letter-queue';
import { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { defaultOf, eventPattern, scheduleOf, settingProblems } from './from-definition';
import { refuseInvalidProps } from './props-validation';
import { remediationPermissions } from './remediation-function';
import { EVENT_DELIVERY, functionTarget, scheduleDelivery, TrustedQueueTarget } from './rule-targets';

export interface DnsSyncProps {
  /** Topic every alarm of the feature notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Where the functions write their audit records. */
  readonly audit: AuditAccess;
  /**
   * Route 53 hosted zone the A records (and their TXT ownership markers) go to, e.g. "Z0123456789ABC".
   * @default - `zones` (set one or the other)
   */
  readonly hostedZoneId?: string;
  /**
   * Name of that zone, e.g. "internal.example.com". Names outside it are refused.
   * @default - `zones` (set one or the other)
   */
  readonly zoneName?: string;
  /**
   * Several zones instead of hostedZoneId, zoneName, reverseZone* and publishPublicIp: a record goes
   * to every forward zone whose name is the longest suffix of its name (split horizon: the same
   * name with `view: 'public'`, A = public IP, and `view: 'private'`, A = private IP); a PTR to the
   * longest-suffix `*.in-addr.arpa` zone; a zone with `account` is written through the role
   * `dnsRoleName` there (FleetwardenDnsRole). A set one zone (and one reverse zone) can express is
   * deployed exactly as the shorthand (same environment).
   * @default - the single zone of hostedZoneId and zoneName
   */
  readonly zones?: readonly DnsZoneInput[];
  /**
   * The role assumed in the account of a zone with `account` (FleetStack: `fleetwarden-dns-<fleetId>`).
   * @default - `fleetwarden-dns-<the stack's account>`
   */
  readonly dnsRoleName?: string;
  /**
   * Reverse zone for PTR records (needs `reverseZoneName`).
   * @default - no PTR records
   */
  readonly reverseZoneId?: string;
  /**
   * Name of the reverse zone, ending in .in-addr.arpa, e.g. "10.in-addr.arpa".
   * @default - no PTR records
   */
  readonly reverseZoneName?: string;
  /**
   * Instance tag whose value names the record (one label, or a name inside the zone).
   * @default 'fleetwarden:dns-name' (instances without it are named after their instance id)
   */
  readonly nameTag?: string;
  /**
   * TTL of the records, in seconds (1 to 86400).
   * @default 60
   */
  readonly ttl?: number;
  /**
   * The A record holds the instance's public IP instead of its private IP. An instance without a
   * public IP gets no A record (refused, audited; a record published earlier is removed): never the
   * private IP as a fallback.
   * @default false
   */
  readonly publishPublicIp?: boolean;
  /**
   * Owner id written into the ownership markers (1-100 letters, digits, ".", "_" or "-"): both
   * functions touch only records whose marker carries it, so deployments sharing a zone (two regions,
   * two accounts) need different ids. FleetStack passes `fleetwarden-<fleetId>-<region>`.
   * @default 'fleetwarden'
   */
  readonly ownerId?: string;
  /**
   * Plan and audit, but write nothing to Route 53.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * How often dns-reconcile compares the zone with the fleet (1 minute to 24 hours).
   * @default Duration.minutes(15)
   */
  readonly reconcileSchedule?: Duration;
  /**
   * How long a tombstone marker (left after terminate/stop) is kept before reconcile removes it.
   * @default Duration.hours(24)
   */
  readonly tombstoneRetention?: Duration;
  /**
   * Messages per dns-sync invocation (1 to 10000).
   * @default 200 (DNS_SYNC_BATCHING.batchSize)
   */
  readonly batchSize?: number;
  /**
   * How long Lambda waits to fill a batch (0 to 300 s): the trade between Route 53 calls and how
   * soon DNS follows EC2. Each batch makes about one ListResourceRecordSets and one
   * ChangeResourceRecordSets, whatever it holds, so a longer window makes fewer calls and later
   * records. Measured on the chaos day (60 instances, 24 h): 5 s -> 181 dns-sync calls, a new
   * instance's A record after a median 7 s (p95 35 s); 15 s -> 138, 16 s; 30 s -> 117, 23 s;
   * 60 s -> 72, 39 s (p95 70 s), as often as external-dns syncs by default. A leaving instance's
   * record is removed as late. Lower it where seconds matter more than calls.
   * @default Duration.seconds(60) (DNS_SYNC_BATCHING.maxBatchingWindowSeconds)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent dns-sync invocations (2 to 1000); keeps Route 53 under its request rate.
   * @default 2
   */
  readonly maxConcurrency?: number;
  /**
   * Receives of a message before it moves to the dead-letter queue (5 to 100). Receives come at about
   * 0, 20, 380, 740 and 1100 s (a quick first retry, then the 360 s visibility timeout; each plus up
   * to the batching window): the fifth is past dns-sync's 900 s absence window, so an instance
   * DescribeInstances never shows is skipped and audited, not dead-lettered.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Instances carrying this tag opt in to DNS (named by their name tag, or by their instance id).
   * Instances that opt in neither this way, nor by the name tag, nor through `autoScalingGroupNames`
   * get no record.
   * @default - only the name tag opts an instance in
   */
  readonly fleetTag?: { readonly key: string; readonly value: string };
  /**
   * Instances of these Auto Scaling groups (tag `aws:autoscaling:groupName`, which only Auto Scaling
   * can set) opt in to DNS.
   * @default - none
   */
  readonly autoScalingGroupNames?: readonly string[];
  /**
   * Key for the queues.
   * @default - the stack's shared FleetKey
   */
  readonly encryptionKey?: kms.IKey;
}

const ZONE_ID = /^Z[A-Z0-9]{1,32}$/;
const DNS_NAME =
  /^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/;
const SYNC_TIMEOUT = Duration.seconds(60);

function validate(scope: Construct, id: string, p: DnsSyncProps): void {
  const problems: string[] = zoneProblems(p);
  if ((p.reverseZoneId === undefined) !== (p.reverseZoneName === undefined)) {
    problems.push(
      `reverseZoneId and reverseZoneName go together, got ${p.reverseZoneId ?? '<unset>'} / ${p.reverseZoneName ?? '<unset>'}`,
    );
  }
  if (
    p.reverseZoneId !== undefined &&
    !Token.isUnresolved(p.reverseZoneId) &&
    !ZONE_ID.test(p.reverseZoneId)
  ) {
    problems.push(`reverseZoneId must look like a Route 53 zone id, got "${p.reverseZoneId}"`);
  }
  if (p.reverseZoneName !== undefined && !/\.in-addr\.arpa\.?$/.test(p.reverseZoneName.toLowerCase())) {
    problems.push(`reverseZoneName must end in .in-addr.arpa, got "${p.reverseZoneName}"`);
  }
  problems.push(...settingProblems('nameTag', DNS_SETTINGS.nameTag, p.nameTag));
  problems.push(...settingProblems('ttl', DNS_SETTINGS.ttl, p.ttl));
  // a token (e.g. one built from the stack's account and region) is only known at deploy time
  problems.push(...settingProblems('ownerId', DNS_SETTINGS.ownerId, p.ownerId));
  if (p.reconcileSchedule !== undefined) {
    const s = p.reconcileSchedule.toSeconds();
    if (s < 60 || s > 86400) problems.push(`reconcileSchedule must be 1 minute to 24 hours, got ${s} s`);
  }
  const tombstone = p.tombstoneRetention?.toHours({ integral: false });
  problems.push(
    ...settingProblems(
      'tombstoneRetention',
      dnsReconcile.settings.tombstoneHours,
      tombstone,
      `${tombstone} h`,
    ),
  );
  if (
    p.batchSize !== undefined &&
    (!Number.isInteger(p.batchSize) || p.batchSize < 1 || p.batchSize > 10000)
  ) {
    problems.push(`batchSize must be an integer from 1 to 10000, got ${p.batchSize}`);
  }
  if (p.maxBatchingWindow !== undefined && p.maxBatchingWindow.toSeconds() > 300) {
    problems.push(`maxBatchingWindow must be at most 300 s, got ${p.maxBatchingWindow.toSeconds()} s`);
  }
  if (
    p.maxConcurrency !== undefined &&
    (!Number.isInteger(p.maxConcurrency) || p.maxConcurrency < 2 || p.maxConcurrency > 1000)
  ) {
    problems.push(`maxConcurrency must be an integer from 2 to 1000, got ${p.maxConcurrency}`);
  }
  if (
    p.maxReceiveCount !== undefined &&
    (!Number.isInteger(p.maxReceiveCount) || p.maxReceiveCount < 5 || p.maxReceiveCount > 100)
  ) {
    problems.push(
      `maxReceiveCount must be an integer from 5 to 100 (a message for an instance DescribeInstances never shows must outlive the 900 s absence window, not reach the DLQ), got ${p.maxReceiveCount}`,
    );
  }
  problems.push(
    ...settingProblems('autoScalingGroupNames', DNS_SETTINGS.autoScalingGroupNames, p.autoScalingGroupNames),
  );
  problems.push(...settingProblems('fleetTag.key', DNS_SETTINGS.fleetTagKey, p.fleetTag?.key));
  problems.push(...settingProblems('fleetTag.value', DNS_SETTINGS.fleetTagValue, p.fleetTag?.value));
  refuseInvalidProps('DnsSync', scope, id, problems);
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

const badId = (id: string) => !Token.isUnresolved(id) && !ZONE_ID.test(id);

/** The zone props: the shorthand or `zones` (not both), each id and name well formed, the set routable. */
function zoneProblems(p: DnsSyncProps): string[] {
  const shorthand = (
    ['hostedZoneId', 'zoneName', 'reverseZoneId', 'reverseZoneName', 'publishPublicIp'] as const
  ).filter((k) => p[k] !== undefined);
  if (p.zones) {
    if (shorthand.length > 0) return [`zones and ${shorthand.join(', ')} are both set: use one or the other`];
    return [
      ...p.zones.flatMap((z) => [
        ...(badId(z.id) ? [`zones: ${JSON.stringify(z.id)} must look like a Route 53 zone id`] : []),
        ...(DNS_NAME.test(z.name.toLowerCase())
          ? []
          : [`zones: ${JSON.stringify(z.name)} must be a DNS name`]),
      ]),
      ...zoneSetProblems(p.zones).map((m) => `zones: ${m}`),
    ];
  }
  const problems: string[] = [];
  if (p.hostedZoneId === undefined || p.zoneName === undefined) {
    return ['hostedZoneId and zoneName are required (or zones)'];
  }
  // a token (e.g. the id of a zone created in the same app) can only be checked by CloudFormation
  if (badId(p.hostedZoneId))
    problems.push(`hostedZoneId must look like a Route 53 zone id, got "${p.hostedZoneId}"`);
  if (!DNS_NAME.test(p.zoneName.toLowerCase()))
    problems.push(`zoneName must be a DNS name, got "${p.zoneName}"`);
  return problems;
}

/**
 * The zone values of both functions. A set the shorthand can express (one forward zone, at most one
 * reverse zone, all in this account) is deployed as the shorthand: the environment of a fleet from
 * before `zones` stays the same. Any other set: ZONES (and DNS_ROLE_NAME when a zone is elsewhere).
 */
function zoneValues(props: DnsSyncProps, scope: Construct): DnsValues {
  if (!props.zones) {
    const reverse = props.reverseZoneId && props.reverseZoneName;
    return {
      hostedZoneId: props.hostedZoneId,
      zoneName: bare(props.zoneName ?? ''),
      publishPublicIp: props.publishPublicIp ?? defaultOf(DNS_SETTINGS.publishPublicIp),
      ...(reverse
        ? { reverseZoneId: props.reverseZoneId, reverseZoneName: bare(props.reverseZoneName ?? '') }
        : {}),
    };
  }
  const set = ZoneSet.of(props.zones);
  const [forward] = set.forward;
  const [reverse] = set.reverse;
  if (forward && set.forward.length === 1 && set.reverse.length <= 1 && !set.zones.some((z) => z.account)) {
    return {
      hostedZoneId: forward.id,
      zoneName: bare(forward.name),
      publishPublicIp: forward.view === 'public',
      ...(reverse ? { reverseZoneId: reverse.id, reverseZoneName: bare(reverse.name) } : {}),
    };
  }
  const remote = set.zones.some((z) => z.account);
  return {
    zones: zonesSettingValue(props.zones),
    ...(remote ? { dnsRoleName: props.dnsRoleName ?? dnsRoleName(Stack.of(scope).account) } : {}),
  };
}

type DnsValues = Partial<SettingsOf<typeof DNS_SETTINGS>>;

/** What each rule is for (the rule's description in the console). */
const RULE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  StateChangeRule: 'fleetwarden dns-sync: EC2 instance state changes that add or remove DNS records',
  NameTagChangeRule: 'fleetwarden dns-sync: the DNS name tag of an EC2 instance changed',
};

/** How often dns-reconcile runs: the prop, or its definition's schedule. */
function reconcilePeriod(props: DnsSyncProps): Duration {
  return props.reconcileSchedule ?? Duration.minutes(scheduleOf(dnsReconcile.triggers));
}

/** Both functions' setting values, from the props or the settings' defaults. */
function dnsValues(props: DnsSyncProps, queueUrl: string, scope: Construct) {
  // the values both functions share (DNS_SETTINGS), from the props or the settings' defaults
  const shared: DnsValues = {
    auditTable: props.audit.tableName,
    ...zoneValues(props, scope),
    nameTag: props.nameTag ?? defaultOf(DNS_SETTINGS.nameTag),
    ttl: props.ttl ?? defaultOf(DNS_SETTINGS.ttl),
    ownerId: props.ownerId ?? defaultOf(DNS_SETTINGS.ownerId),
    dryRun: props.dryRun ?? defaultOf(DNS_SETTINGS.dryRun),
    // who opts in to DNS besides the name tag
    ...(props.fleetTag ? { fleetTagKey: props.fleetTag.key, fleetTagValue: props.fleetTag.value } : {}),
    ...(props.autoScalingGroupNames?.length ? { autoScalingGroupNames: props.autoScalingGroupNames } : {}),
  };
  const syncValues: Partial<SettingsOf<typeof dnsSync.settings>> = {
    ...shared,
    // the lag retry's ChangeMessageVisibility goes to this URL's host (VPC endpoints, FIPS)
    queueUrl,
  };
  const reconcileValues: Partial<SettingsOf<typeof dnsReconcile.settings>> = {
    ...shared,
    tombstoneHours:
      props.tombstoneRetention?.toHours({ integral: false }) ??
      defaultOf(dnsReconcile.settings.tombstoneHours),
    // how recent a fleet change makes a run read the zone (shared/dns/reconcile-due.ts)
    schedule: reconcilePeriod(props).toSeconds(),
  };
  return { sync: syncValues, reconcile: reconcileValues };
}

/**
 * DNS that follows the instances: EC2 state-change and name-tag-change events -> EventBridge rules -> KMS-encrypted SQS
 * queue (own DLQ + depth alarm) -> dns-sync in batches (partial batch failure, bounded concurrency),
 * and a scheduled dns-reconcile that repairs drift. Route 53 writes are limited to this zone, to
 * names inside it, to A/TXT (PTR/TXT in the reverse zone) and to CREATE/DELETE.
 */
export class DnsSync extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;
  /** Name-tag changes on EC2 instances (Tag Change on Resource) into the same queue. */
  readonly tagRule: events.Rule;
  readonly syncFunction: FleetFunction;
  readonly reconcileFunction: FleetFunction;

  constructor(scope: Construct, id: string, props: DnsSyncProps) {
    validate(scope, id, props);
    super(scope, id);
    const key = props.encryptionKey ?? fleetKey(this);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetter', {
      key,
      of: 'the dns-sync queue (and of its EventBridge target)',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least 6x the function timeout
      visibilityTimeout: Duration.seconds(SYNC_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    this.alarmDeadLetters(props.alarmTopic);

    const { sync: syncValues, reconcile: reconcileValues } = dnsValues(props, this.queue.queueUrl, this);

    const rules = this.addRules(syncValues as SettingsOf<typeof dnsSync.settings>);
    this.rule = rules.get('StateChangeRule') as events.Rule;
    this.tagRule = rules.get('NameTagChangeRule') as events.Rule;

    const entry = (name: string) =>
      fileURLToPath(new URL(`../../functions/${name}/index.ts`, import.meta.url));

    this.syncFunction = new FleetFunction(this, 'DnsSyncFunction', {
      entry: entry('dns-sync'),
      description:
        'Keeps Route 53 A/PTR records in step with EC2 instance state changes (batched, ownership-marked)',
      alarmTopic: props.alarmTopic,
      timeout: SYNC_TIMEOUT,
      environment: settingsEnv(dnsSync.settings, syncValues),
      encryptionKey: key,
    });
    this.syncFunction.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? DNS_SYNC_BATCHING.batchSize,
        maxBatchingWindow:
          props.maxBatchingWindow ?? Duration.seconds(DNS_SYNC_BATCHING.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? DNS_SYNC_BATCHING.maxConcurrency,
      }),
    );

    this.reconcileFunction = new FleetFunction(this, 'DnsReconcileFunction', {
      entry: entry('dns-reconcile'),
      description: 'Compares the zone with the fleet and repairs DNS drift, respecting ownership markers',
      alarmTopic: props.alarmTopic,
      timeout: Duration.minutes(5),
      environment: settingsEnv(dnsReconcile.settings, reconcileValues),
      encryptionKey: key,
      retryAttempts: 0,
    });
    // the fleet's DNS writers: a zone change in CloudTrail by either role is the fleet's own
    this.reconcileFunction.fn.addEnvironment(
      dnsReconcile.settings.writerRoles.env,
      [this.syncFunction.role.roleArn, this.reconcileFunction.role.roleArn].join(','),
    );
    const reconcileEvery = reconcilePeriod(props);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'fleetwarden dns-reconcile schedule',
      schedule: events.Schedule.rate(reconcileEvery),
      targets: [functionTarget(this.reconcileFunction, scheduleDelivery(reconcileEvery))],
    });

    // Route 53 writes limited to the zones, to names inside them, to their record types and to
    // CREATE/DELETE; the zones' listings and DescribeInstances (read-only, no resource-level permissions)
    const sync = syncValues as SettingsOf<typeof dnsSync.settings>;
    const reconcile = reconcileValues as SettingsOf<typeof dnsReconcile.settings>;
    for (const p of remediationPermissions(dnsSync, sync, this)) this.syncFunction.allow(p);
    for (const p of remediationPermissions(dnsReconcile, reconcile, this)) this.reconcileFunction.allow(p);
    props.audit.grantWrite(this.syncFunction);
    props.audit.grantWrite(this.reconcileFunction);
  }

  /** The dead-letter queue's depth alarm (and its recovery), to the alarm topic. */
  private alarmDeadLetters(topic: sns.ITopic): void {
    deadLetterAlarm(this, 'DeadLetterAlarm', {
      deadLetterQueue: this.deadLetterQueue,
      topic,
      summary:
        'fleetwarden dns-sync queue: state changes that could not be applied are waiting in the dead-letter queue',
      runbook: 'dns-sync-queue-dead-letters',
    });
  }

  /** The rules dns-sync declares, into the queue: construct ids and patterns from its definition. */
  private addRules(values: SettingsOf<typeof dnsSync.settings>): Map<string, events.Rule> {
    // dns-sync's rules (EC2 state changes; the configured name tag changing): construct ids and
    // patterns from its definition, into the queue
    const rules = new Map<string, events.Rule>();
    for (const t of dnsSync.triggers) {
      if (t.kind !== 'events') continue;
      const rule = new events.Rule(this, t.id, {
        description: RULE_DESCRIPTIONS[t.id] ?? `fleetwarden dns-sync: ${t.id}`,
        eventPattern: eventPattern(t.pattern, values),
      });
      rule.addTarget(
        new TrustedQueueTarget(this.queue, { deadLetterQueue: this.deadLetterQueue, ...EVENT_DELIVERY }),
      );
      rules.set(t.id, rule);
    }
    return rules;
  }
}
