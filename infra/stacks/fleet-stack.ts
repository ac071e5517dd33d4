import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config';
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

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    const { config } = props;
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
  }
}
