import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Fleetwarden, type FleetwardenProps } from '../../lib';
import type { FleetConfig } from '../config';
import type { Approvals } from '../constructs/approvals';
import type { AuditTrail } from '../constructs/audit-trail';
import type { DnsSync } from '../constructs/dns-sync';
import type { FleetDashboard } from '../constructs/fleet-dashboard';
import type { RemediationFunction } from '../constructs/remediation-function';
import type { RunnerRemediation } from '../constructs/runner-remediation';
import type { WebhookIngress } from '../constructs/webhook-ingress';

export { TRIGGER_PATTERNS } from '../constructs/fleetwarden';

export interface FleetStackProps extends StackProps {
  /** The validated `fleetwarden` context (see infra/config.ts). */
  readonly config: FleetConfig;
  /**
   * Webhook secret to use instead of a generated one (the integration test passes a known one).
   * @default - a generated secret
   */
  readonly webhookSecret?: secretsmanager.ISecret;
}

/**
 * The repository's own deployment: a stack holding one `Fleetwarden`, built through the package's
 * public API (lib/index.ts) like any consumer's app. The construct's id is `Default`, which CDK leaves
 * out of logical ids, so the resources keep the logical ids they had when the stack built them itself
 * (no replacement on upgrade).
 */
export class FleetStack extends Stack {
  readonly fleet: Fleetwarden;
  readonly alarmTopic: sns.Topic;
  readonly audit: AuditTrail;
  readonly dns: DnsSync;
  readonly webhook?: WebhookIngress;
  readonly runners?: RunnerRemediation;
  /** Registry remediations deployed from their definition alone (config.remediations), by name. */
  readonly remediations: Map<string, RemediationFunction>;
  readonly dashboard: FleetDashboard;
  /** The approval flow (config.approvals): proposals, decisions, the Approver role. */
  readonly approvals?: Approvals;
  /** The fleet's identity (runner label `fleetwarden-fleet:<fleetId>`): config.fleetId, else the account id. */
  readonly fleetId: string;
  /** Owner id of the DNS ownership markers: config.ownerId, else `fleetwarden-<fleetId>-<region>`. */
  readonly ownerId: string;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    // the parsed config: the shorthand or zones, checked again by the construct
    const fleet = new Fleetwarden(this, 'Default', {
      ...props.config,
      ...(props.webhookSecret ? { webhookSecret: props.webhookSecret } : {}),
    } as FleetwardenProps);
    this.fleet = fleet;
    this.alarmTopic = fleet.alarmTopic;
    this.audit = fleet.audit;
    this.dns = fleet.dns;
    if (fleet.webhook) this.webhook = fleet.webhook;
    if (fleet.runners) this.runners = fleet.runners;
    this.remediations = fleet.remediations;
    if (fleet.approvals) this.approvals = fleet.approvals;
    this.dashboard = fleet.dashboard;
    this.fleetId = fleet.fleetId;
    this.ownerId = fleet.ownerId;
  }
}
