import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config';
import { AuditTrail } from '../constructs/audit-trail';
import { DnsSync } from '../constructs/dns-sync';
import { LOG_RETENTION_CONTEXT } from '../constructs/fleet-function';
import { fleetKey } from '../constructs/fleet-key';

export interface FleetStackProps extends StackProps {
  /** The validated `fleetwarden` context (see infra/config.ts). */
  readonly config: FleetConfig;
}

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
 * The whole fleet in one stack: the alarm topic every function alarms to, the archive of triggering
 * events (replay after a fix), and the features (DNS sync, runner remediation, audit trail, webhook
 * ingress) wired together.
 */
export class FleetStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly audit: AuditTrail;
  readonly dns: DnsSync;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    const { config } = props;
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
      hostedZoneId: config.hostedZoneId,
      zoneName: config.zoneName,
      ...(config.reverseZoneId && config.reverseZoneName
        ? { reverseZoneId: config.reverseZoneId, reverseZoneName: config.reverseZoneName }
        : {}),
      nameTag: config.dnsNameTag,
      ttl: config.recordTtl,
      publishPublicIp: config.publishPublicIp,
      dryRun: config.dryRun,
    });
  }
}
