import { Aspects, CfnOutput, Duration, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import { REMEDIATIONS } from '../../functions/registry';
import { ConfigError } from '../../shared/core/errors';
import { dnsRoleName } from '../../shared/dns/settings';
import { apiHostOf, DEFAULT_GITHUB_API_URL } from '../../shared/github/scope';
import { needsApproval } from '../../shared/kernel/definition';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { DEFAULT_POOL } from '../../shared/runners/pool';
import { type FleetConfig, nearestKey } from '../config';
import { poolId, poolsOf, type RunnerPool } from '../config-pools';
import { zonesOfConfig } from '../config-zones';
import { Approvals } from './approvals';
import { AuditTrail } from './audit-trail';
import { DnsSync } from './dns-sync';
import { FleetDashboard } from './fleet-dashboard';
import { FleetFunction, LOG_RETENTION_CONTEXT } from './fleet-function';
import { fleetKey } from './fleet-key';
import { parseFleetProps } from './fleetwarden-config';
import type { FleetwardenProps } from './fleetwarden-props';
import { RemediationFunction } from './remediation-function';
import { RunnerRemediation } from './runner-remediation';
import { SpokeHub } from './spoke-hub';
import { generatedWebhookSecret, WebhookIngress, type WebhookIngressPool } from './webhook-ingress';

/** Event patterns of the AWS events that trigger fleet actions, archived for replay. */
export const TRIGGER_PATTERNS = {
  ec2StateChange: {
    source: ['aws.ec2'],
    detailType: ['EC2 Instance State-change Notification'],
  },
  autoScalingLifecycle: {
    source: ['aws.autoscaling'],
    detailType: ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
  },
} as const satisfies Record<string, events.EventPattern>;

/**
 * Every output keeps the id its construct gave it as its logical id (`AuditTableName`, not
 * `AuditAuditTableNameC79E1923`): the names README.md documents and scripts read.
 */
class StableOutputNames implements IAspect {
  private readonly seen = new Map<string, string>();

  visit(node: IConstruct): void {
    if (!(node instanceof CfnOutput)) return;
    const name = node.node.id;
    const other = this.seen.get(name);
    if (other && other !== node.node.path)
      throw new Error(`two stack outputs would be named ${name}: ${other} and ${node.node.path}`);
    this.seen.set(name, node.node.path);
    node.overrideLogicalId(name);
  }
}

/**
 * The whole fleet, in any stack: the alarm topic every function alarms to, the archive of triggering
 * events (replay after a fix), and the features (DNS sync, runner remediation, audit trail, webhook
 * ingress, registry remediations, on-call dashboard) wired together. One per stack: it shares the
 * stack's fleet key, and its outputs keep their own names (`WebhookUrl`, `AuditTableName`, …).
 *
 * ```ts
 * new Fleetwarden(stack, 'Fleet', { hostedZoneId: 'Z0123456789ABC', zoneName: 'fleet.example.com' });
 * ```
 */
export class Fleetwarden extends Construct {
  /** The validated configuration (props with the schema's defaults). */
  readonly config: FleetConfig;
  readonly alarmTopic: sns.Topic;
  readonly audit: AuditTrail;
  readonly dns: DnsSync;
  readonly webhook?: WebhookIngress;
  /** The runner remediation of the pool `default` (the shorthand's), else of the first pool. */
  readonly runners?: RunnerRemediation;
  /** Every runner pool's remediation (drain, sweep, job-watch), by pool name (README "Several runner pools"). */
  readonly pools = new Map<string, RunnerRemediation>();
  /** Registry remediations deployed from their definition alone (config.remediations), by name. */
  readonly remediations = new Map<string, RemediationFunction>();
  /** The approval flow (config.approvals): proposals, decisions, the Approver role. */
  readonly approvals?: Approvals;
  /** The on-call dashboard (named after the stack): alarms, then one row per function. */
  readonly dashboard: FleetDashboard;
  /** The fleet's identity (runner label `fleetwarden-fleet:<fleetId>`): config.fleetId, else the account id. */
  readonly fleetId: string;
  /**
   * Owner id of the DNS ownership markers: config.ownerId, else `fleetwarden-<fleetId>-<region>`, so
   * deployments sharing a zone (two regions, two accounts) never take each other's records for theirs.
   */
  readonly ownerId: string;

  /**
   * @throws ConfigError listing every invalid prop (path, value given, the nearest key for a typo)
   */
  constructor(scope: Construct, id: string, props: FleetwardenProps) {
    super(scope, id);
    const { webhookSecret, ...given } = props;
    const config = parseFleetProps(given, 'Fleetwarden props');
    this.config = config;
    const stack = Stack.of(this);
    this.fleetId = config.fleetId ?? stack.account;
    this.ownerId = config.ownerId ?? `fleetwarden-${this.fleetId}-${stack.region}`;
    Aspects.of(this).add(new StableOutputNames());
    // every FleetFunction below reads its default log retention from here
    this.node.setContext(LOG_RETENTION_CONTEXT, config.logRetentionDays);
    const key = fleetKey(this);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'fleetwarden alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }

    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    new events.Archive(this, 'TriggerArchive', {
      sourceEventBus: defaultBus,
      description: 'Instance lifecycle events that trigger fleetwarden, kept for replay after a fix',
      eventPattern: {
        source: [...TRIGGER_PATTERNS.ec2StateChange.source, ...TRIGGER_PATTERNS.autoScalingLifecycle.source],
        detailType: [
          ...TRIGGER_PATTERNS.ec2StateChange.detailType,
          ...TRIGGER_PATTERNS.autoScalingLifecycle.detailType,
        ],
      },
      retention: Duration.days(14),
    });

    this.audit = new AuditTrail(this, 'Audit', {
      alarmTopic: this.alarmTopic,
      retentionDays: config.auditRetentionDays,
      ...(config.investigatorPrincipalArn
        ? { investigatorPrincipal: new iam.ArnPrincipal(config.investigatorPrincipalArn) }
        : {}),
    });

    this.dns = new DnsSync(this, 'Dns', {
      alarmTopic: this.alarmTopic,
      audit: this.audit,
      // the shorthand normalised into the list (deployed as before: same environment)
      zones: zonesOfConfig(config),
      dnsRoleName: dnsRoleName(this.fleetId),
      nameTag: config.dnsNameTag,
      ttl: config.recordTtl,
      ownerId: this.ownerId,
      dryRun: config.dryRun,
      // who opts in to DNS besides the name tag: the fleet's instances
      fleetTag: config.fleetTag,
      autoScalingGroupNames: config.autoScalingGroupNames,
    });

    const pools = poolsOf(config);
    if (config.github || config.pools) this.webhook = this.addWebhook(config, pools, webhookSecret, key);
    for (const pool of pools) {
      if (!this.webhook) break;
      this.pools.set(pool.name, this.addPool(config, pool, this.webhook, key));
    }
    this.runners = this.pools.get(DEFAULT_POOL) ?? this.pools.values().next().value;
    this.addRemediations(config, key);
    if (config.approvals) this.approvals = this.addApprovals(config.approvals, key);
    // hub and spokes (README "Hub and spokes"): after every function, which it finds
    if (config.spokes?.length) new SpokeHub(this, 'Spokes', { spokes: config.spokes, fleetId: this.fleetId });
    this.dashboard = this.addDashboard();
  }

  /** The webhook ingress (one for the fleet; the ingress tells the pools' deliveries apart). */
  private addWebhook(
    config: FleetConfig,
    pools: readonly RunnerPool[],
    webhookSecret: secretsmanager.ISecret | undefined,
    key: ReturnType<typeof fleetKey>,
  ): WebhookIngress {
    if (webhookSecret && config.pools && !pools.some((p) => p.name === DEFAULT_POOL))
      throw new ConfigError(
        `webhookSecret is the secret of the pool named default; pools has none (${pools.map((p) => p.name).join(', ')}): give each pool its webhookSecretName instead`,
      );
    const webhook = new WebhookIngress(this, 'Webhook', {
      alarmTopic: this.alarmTopic,
      maxJobAge: Duration.seconds(config.maxJobAge),
      ...(webhookSecret ? { webhookSecret } : {}),
      // the shorthand: no pools given, the ingress's one pool `default` (its template as before pools)
      ...(config.pools ? { pools: pools.map((p) => this.webhookPool(p, key)) } : {}),
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: webhook.functionUrl.url,
      description: 'Payload URL of the GitHub webhook (content type application/json, events: Workflow jobs)',
    });
    for (const pool of config.pools
      ? webhook.pools
      : [{ name: DEFAULT_POOL, webhookSecret: webhook.webhookSecret }]) {
      const suffix = pool.name === DEFAULT_POOL ? '' : poolId(pool.name);
      new CfnOutput(this, `WebhookSecretName${suffix}`, {
        value: pool.webhookSecret.secretName,
        description: `Secrets Manager secret holding the webhook secret${suffix ? ` of runner pool ${pool.name}` : ''} to enter in GitHub`,
      });
    }
    new CfnOutput(this, 'EventBusName', {
      value: webhook.bus.eventBusName,
      description: 'Bus carrying the normalized fleetwarden.github events',
    });
    return webhook;
  }

  /**
   * A pool as the ingress serves it: the host of its GitHub (of `github.apiUrl`) and its webhook
   * secret, `webhookSecretName`'s or a generated one (`WebhookSecret<PoolId>`); pool `default`
   * given none keeps the ingress's generated secret (today's logical id) or the `webhookSecret` prop.
   */
  private webhookPool(pool: RunnerPool, key: ReturnType<typeof fleetKey>): WebhookIngressPool {
    const host = apiHostOf(pool.github.apiUrl ?? DEFAULT_GITHUB_API_URL);
    const id = `WebhookSecret${poolId(pool.name)}`;
    if (pool.webhookSecretName)
      return {
        name: pool.name,
        host,
        webhookSecret: secretsmanager.Secret.fromSecretNameV2(this, id, pool.webhookSecretName),
      };
    if (pool.name === DEFAULT_POOL) return { name: pool.name, host };
    return { name: pool.name, host, webhookSecret: generatedWebhookSecret(this, id, pool.name, key) };
  }

  /**
   * One runner pool: its GitHub App secret and its runner remediation (drain, sweep, job-watch, their
   * queues and state). The pool `default` (the shorthand's) keeps the ids it had before pools
   * (`GitHubAppSecret`, `Runners`, output `GitHubAppSecretName`); another gets its own, suffixed.
   */
  private addPool(
    config: FleetConfig,
    pool: RunnerPool,
    webhook: WebhookIngress,
    key: ReturnType<typeof fleetKey>,
  ): RunnerRemediation {
    const suffix = pool.name === DEFAULT_POOL ? '' : poolId(pool.name);
    const appSecret = new secretsmanager.Secret(this, `GitHubAppSecret${suffix}`, {
      description: `fleetwarden: GitHub App credentials${suffix ? ` of runner pool ${pool.name}` : ''} as JSON {"appId","installationId","privateKey"} (replace the generated value)`,
      encryptionKey: key,
    });
    Validations.of(appSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A GitHub App private key is issued and revoked in GitHub, not by a rotation Lambda; rotate it there and update this secret (README).',
    });
    // the Investigator never reads these values: the App's key acts on GitHub (deregisters runners),
    // so read-only credentials cannot hold it; `fleetwarden doctor` checks them with the operator's own
    new CfnOutput(this, `GitHubAppSecretName${suffix}`, {
      value: appSecret.secretName,
      description: `Put the GitHub App credentials JSON${suffix ? ` of runner pool ${pool.name}` : ''} into this secret`,
    });
    const { github } = pool;
    return new RunnerRemediation(this, suffix ? `Runners${suffix}` : 'Runners', {
      fleetId: this.fleetId,
      removalBudgetWindow: Duration.seconds(config.removalBudgetWindow),
      alarmTopic: this.alarmTopic,
      audit: this.audit,
      bus: webhook.bus,
      autoScalingGroupNames: pool.autoScalingGroupNames,
      githubAppSecret: appSecret,
      ...(github.owner ? { githubOwner: github.owner } : {}),
      ...(github.repository ? { githubRepository: github.repository } : {}),
      ...(github.enterprise ? { githubEnterprise: github.enterprise } : {}),
      ...(github.apiUrl ? { githubApiUrl: github.apiUrl } : {}),
      ...(pool.shorthand ? {} : { poolName: pool.name, runnerLabels: pool.labels }),
      dryRun: config.dryRun,
      maxRemovalShare: pool.maxRemovalShare,
      maxRemovalsPerRun: pool.maxRemovalsPerRun,
      allowTerminate: pool.allowTerminate,
      fleetTag: pool.fleetTag,
    });
  }

  /**
   * The registry remediations config.remediations names, each a RemediationFunction built from its
   * definition; settings it does not give that share a fleet-wide key's name take that key's value.
   */
  private addRemediations(config: FleetConfig, key: ReturnType<typeof fleetKey>): void {
    const byFeature = new Set(
      this.node
        .findAll()
        .filter(FleetFunction.isFleetFunction)
        .map((f) => f.entry),
    );
    const standalone = REMEDIATIONS.filter((d) => 'optIn' in d && d.optIn).map((d) => d.name);
    for (const [name, given] of Object.entries(config.remediations)) {
      const definition: AnyRemediation | undefined = REMEDIATIONS.find((d) => d.name === name);
      if (!definition) {
        const guess = nearestKey(name, standalone);
        throw new Error(
          `remediations: unknown remediation "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${standalone.join(', ')}`,
        );
      }
      if (byFeature.has(definition.entry) || !standalone.includes(name))
        throw new Error(`remediations: "${name}" is deployed by its feature: configure it with its own keys`);
      const settings = { ...fleetWide(config, definition), ...checkedKeys(name, definition, given) };
      this.remediations.set(
        name,
        new RemediationFunction(this, pascal(name), {
          definition,
          alarmTopic: this.alarmTopic,
          audit: this.audit,
          settings,
          encryptionKey: key,
        }),
      );
    }
  }

  /**
   * The approval flow, handed to every function built above whose remediation asks the approval gate
   * (an irreversible action without `unattended`, or `proposesRuns`): found rather than listed,
   * whichever construct built it. The read-only
   * Investigator (CLI: proposals, show, timeline) reads both tables.
   */
  private addApprovals(
    a: NonNullable<FleetConfig['approvals']>,
    key: ReturnType<typeof fleetKey>,
  ): Approvals {
    const approvals = new Approvals(this, 'Approvals', {
      approvers: a.approvers,
      required: a.required,
      twoPerson: a.twoPerson,
      expiry: Duration.seconds(a.expiry),
      notifyEmails: a.notify.emails,
      encryptionKey: key,
    });
    for (const ff of this.node.findAll().filter(FleetFunction.isFleetFunction)) {
      const definition = REMEDIATIONS.find((d) => d.entry === ff.entry);
      if (definition && needsApproval(definition)) approvals.grantPropose(ff);
    }
    approvals.grantRead(this.audit.investigatorRole);
    // the flow's own bookkeeping (approvals-expire), deployed from its definition with the tables
    const own: AnyRemediation[] = REMEDIATIONS.filter((d: AnyRemediation) => d.needsApprovals === true);
    for (const definition of own) {
      this.remediations.set(
        definition.name,
        new RemediationFunction(this, pascal(definition.name), {
          definition,
          alarmTopic: this.alarmTopic,
          audit: this.audit,
          settings: { proposalsTable: approvals.proposalsTable.tableName },
          encryptionKey: key,
        }),
      );
    }
    return approvals;
  }

  /** Every function and alarm built above, found rather than listed: a new one shows up by itself. */

  /** Every function and alarm built above, found rather than listed: a new one shows up by itself. */
  private addDashboard(): FleetDashboard {
    const all = this.node.findAll();
    return new FleetDashboard(this, 'OnCall', {
      functions: all.filter(FleetFunction.isFleetFunction),
      alarms: all.filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm),
      feeds: [
        { consumer: this.dns.syncFunction, queue: this.dns.queue, deadLetterQueue: this.dns.deadLetterQueue },
        ...[...this.pools.values()].map((runners) => ({
          consumer: runners.drainFunction,
          queue: runners.drainQueue,
          deadLetterQueue: runners.drainDeadLetterQueue,
        })),
      ],
    });
  }
}

/** A remediation's construct id ("orphaned-volumes" -> "OrphanedVolumes"). */
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

/** Settings that carry a fleet-wide key's value (the fleet's scope); config.remediations may not set them. */
const FLEET_WIDE = ['dryRun', 'fleetTagKey', 'fleetTagValue', 'autoScalingGroupNames'];

/** Fleet-wide config values for the settings of a definition that share their name. */
function fleetWide(config: FleetConfig, definition: AnyRemediation): Record<string, unknown> {
  const shared: Record<string, unknown> = {
    dryRun: config.dryRun,
    fleetTagKey: config.fleetTag.key,
    fleetTagValue: config.fleetTag.value,
    autoScalingGroupNames: config.autoScalingGroupNames,
  };
  return Object.fromEntries(Object.entries(shared).filter(([k]) => k in definition.settings));
}

/** The settings given for a remediation, every key one it declares (else the nearest is named). */
function checkedKeys(
  name: string,
  definition: AnyRemediation,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const known = Object.keys(definition.settings);
  for (const k of Object.keys(given)) {
    // the fleet's scope is the fleet's: a remediation cannot widen or move it on its own
    if (FLEET_WIDE.includes(k)) throw new Error(`remediations.${name}.${k}: set the fleet-wide key instead`);
    if (known.includes(k)) continue;
    const guess = nearestKey(k, known);
    throw new Error(
      `remediations.${name}: unknown setting "${k}"${guess ? ` (did you mean "${guess}"?)` : ''}; settings: ${known.join(', ')}`,
    );
  }
  return given;
}
