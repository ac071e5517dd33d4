import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { z } from 'zod';
import type { FleetConfig, FleetConfigSchema } from '../config';

/** What the config schema accepts (before defaults): the source of truth the props are checked against. */
export type FleetConfigInput = z.input<typeof FleetConfigSchema>;

/** The keys documented below; a key the schema gains later is still accepted (from FleetConfigInput). */
type Documented =
  | 'hostedZoneId'
  | 'approvals'
  | 'spokes'
  | 'zoneName'
  | 'reverseZoneId'
  | 'reverseZoneName'
  | 'dnsNameTag'
  | 'recordTtl'
  | 'publishPublicIp'
  | 'autoScalingGroupNames'
  | 'github'
  | 'fleetId'
  | 'ownerId'
  | 'fleetTag'
  | 'dryRun'
  | 'maxRemovalShare'
  | 'removalBudgetWindow'
  | 'maxJobAge'
  | 'maxRemovalsPerRun'
  | 'allowTerminate'
  | 'alarmEmail'
  | 'auditRetentionDays'
  | 'logRetentionDays'
  | 'investigatorPrincipalArn'
  | 'remediations';

/** GitHub organisation (or repository) whose self-hosted runners the fleet watches. */
export interface FleetwardenGitHubProps {
  /** Organisation login whose self-hosted runners the fleet manages. */
  readonly owner: string;
  /**
   * Repository-level runners of this repository (name without the owner) instead of organisation ones.
   * @default - organisation-level runners
   */
  readonly repository?: string;
  /**
   * Deploy only the webhook ingress, no runner remediation (then name no autoScalingGroupNames).
   * @default false
   */
  readonly webhookOnly?: boolean;
}

/**
 * Props of `Fleetwarden`: the fleet's configuration, the same keys as the `fleetwarden` block of the
 * repository's cdk.json (README.md#configuration), validated by the same schema with the same messages.
 */
export interface FleetwardenProps extends Partial<Omit<FleetConfigInput, Documented>> {
  /** Route 53 hosted zone id (`Z…`) the fleet writes instance records into. */
  readonly hostedZoneId: string;
  /** The zone's DNS name; instance names fall inside it. */
  readonly zoneName: string;
  /**
   * Reverse (in-addr.arpa) zone id for PTR records; set together with reverseZoneName.
   * @default - no PTR records
   */
  readonly reverseZoneId?: string;
  /**
   * Name of the reverse zone (e.g. `10.in-addr.arpa`); set together with reverseZoneId.
   * @default - no PTR records
   */
  readonly reverseZoneName?: string;
  /**
   * Instance tag whose value names the instance's record (untagged fleet instances are named by id).
   * @default "fleetwarden:dns-name"
   */
  readonly dnsNameTag?: string;
  /**
   * TTL of the records, in seconds.
   * @default 60
   */
  readonly recordTtl?: number;
  /**
   * The A record holds the instance's public IP (never the private one as a fallback).
   * @default false
   */
  readonly publishPublicIp?: boolean;
  /**
   * Auto Scaling groups running GitHub runners: their terminate lifecycle actions are drained.
   * @default []
   */
  readonly autoScalingGroupNames?: string[];
  /**
   * GitHub organisation of the runners: deploys the webhook ingress (and runner remediation when
   * autoScalingGroupNames names runner groups).
   * @default - no GitHub features
   */
  readonly github?: FleetwardenGitHubProps;
  /**
   * The fleet's identity: runners are labelled `fleetwarden-fleet:<fleetId>`; the sweep only removes
   * runners carrying its own.
   * @default - the stack's account id
   */
  readonly fleetId?: string;
  /**
   * Owner id in the DNS ownership markers; deployments sharing a zone need different ids.
   * @default - `fleetwarden-<fleetId>-<region>`
   */
  readonly ownerId?: string;
  /**
   * Tag that marks the fleet's runner instances (scopes TerminateInstances and the sweep).
   * @default {"key":"fleetwarden:fleet","value":"runners"}
   */
  readonly fleetTag?: { readonly key: string; readonly value: string };
  /**
   * Safe by default: remediations only audit what they would do until this is false.
   * @default true
   */
  readonly dryRun?: boolean;
  /**
   * The circuit breaker refuses a run that would remove more than this share of the fleet (0-1).
   * @default 0.2
   */
  readonly maxRemovalShare?: number;
  /**
   * Seconds of the sweep's rolling removal budget window.
   * @default 3600
   */
  readonly removalBudgetWindow?: number;
  /**
   * Seconds: webhook-ingress ignores a workflow_job older than this (replays of a captured body).
   * @default 3600
   */
  readonly maxJobAge?: number;
  /**
   * At most this many removals per sweep run; the rest wait for the next run.
   * @default 100
   */
  readonly maxRemovalsPerRun?: number;
  /**
   * Let the sweep terminate instances that never registered (tag-scoped permission).
   * @default false
   */
  readonly allowTerminate?: boolean;
  /**
   * Email subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Days the audit records are kept (1-3650).
   * @default 400
   */
  readonly auditRetentionDays?: number;
  /**
   * Days the functions' logs are kept (a CloudWatch Logs retention value).
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * IAM principal ARN allowed to assume the read-only Investigator role (the CLI's credentials).
   * @default - the account root
   */
  readonly investigatorPrincipalArn?: string;
  /**
   * Registry remediations opted in by name with their settings (docs/remediations.md), e.g.
   * `{ 'orphaned-volumes': { gracePeriod: 86400 } }`.
   * @default {}
   */
  readonly remediations?: Record<string, Record<string, unknown>>;
  /**
   * Human approval of irreversible actions (README "Approvals"): `approvers` (IAM principal ARN
   * patterns; they alone may assume the Approver role), `required` distinct approvals (default 1),
   * `twoPerson` (default true: whoever triggered a proposal cannot approve it), `expiry` seconds
   * (default 86400), `notify.emails`. Irreversible actions become proposals.
   * @default - no approval flow: irreversible actions are only reported
   */
  readonly approvals?: {
    approvers: string[];
    required?: number;
    twoPerson?: boolean;
    expiry?: number;
    notify?: { emails?: string[] };
  };
  /**
   * Member accounts and regions of a hub-and-spoke fleet (README "Hub and spokes"): the hub accepts
   * their forwarded events and acts there through the spoke role (deploy a `FleetwardenSpokeStack`
   * per account and region). Needs `fleetId`.
   * @default - none: the single-account deployment
   */
  readonly spokes?: Array<{ account: string; regions: string[] }>;
  /**
   * Webhook secret to use instead of a generated one.
   * @default - a generated secret
   */
  readonly webhookSecret?: secretsmanager.ISecret;
}

type Assert<T extends true> = T;

/** The approvals block's own keys have defaults (the schema's input): checked by the schema at run time. */
type Checked = Exclude<Documented, 'approvals'>;

/** Compile-time check: each documented prop has the type the schema gives its key (webhookSecret aside). */
export type PropsMatchConfig = Assert<
  Required<Pick<FleetwardenProps, Checked>> extends Required<Pick<FleetConfig, Checked>> ? true : false
>;
