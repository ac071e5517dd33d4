import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { z } from 'zod';
import type { FleetConfig, FleetConfigSchema } from '../config';

/** What the config schema accepts (before defaults): the source of truth the props are checked against. */
export type FleetConfigInput = z.input<typeof FleetConfigSchema>;

/** The keys documented below; a key the schema gains later is still accepted (from FleetConfigInput). */
type Documented =
  | 'hostedZoneId'
  | 'zones'
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
  | 'remediations'
  | 'pools';

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

/** One runner pool (README "Several runner pools"): its GitHub scope, groups, labels, fleet tag, breaker. */
export interface FleetwardenPoolProps {
  /** `[a-z][a-z0-9-]{0,19}`, unique among the pools: names its constructs, events and audit records. */
  readonly name: string;
  /**
   * Exactly one of `owner` (organisation runners), `owner` + `repository` (repository runners) or
   * `enterprise` (enterprise runners); `apiUrl` for GitHub Enterprise Server (e.g.
   * `https://ghe.example.com/api/v3`; default `https://api.github.com`).
   */
  readonly github: {
    readonly owner?: string;
    readonly repository?: string;
    readonly enterprise?: string;
    readonly apiUrl?: string;
  };
  /** The pool's runner Auto Scaling groups (an ASG belongs to one pool only). */
  readonly autoScalingGroupNames: string[];
  /**
   * Labels every runner of the pool carries besides the fleet label; runners without all of them
   * are never touched by this pool. Pools reading the same runners (one organisation) must have
   * labels that tell them apart.
   * @default - none
   */
  readonly labels?: string[];
  /**
   * Tag marking the pool's instances (one pool per tag).
   * @default - {"key":"fleetwarden:fleet","value":<name>} ("runners" for a pool named default)
   */
  readonly fleetTag?: { readonly key: string; readonly value: string };
  /**
   * The pool's circuit breaker share (0-1).
   * @default 0.2
   */
  readonly maxRemovalShare?: number;
  /**
   * At most this many removals per sweep run of the pool.
   * @default 100
   */
  readonly maxRemovalsPerRun?: number;
  /**
   * Let the pool's sweep terminate instances that never registered.
   * @default false
   */
  readonly allowTerminate?: boolean;
  /**
   * Secrets Manager name of the pool's webhook secret.
   * @default - the fleet's webhook secret
   */
  readonly webhookSecretName?: string;
}

/** One zone of `zones` (issue 16). */
export interface FleetwardenZone {
  /** Route 53 hosted zone id (`Z…`). */
  readonly id: string;
  /** The zone's DNS name; a name ending in `.in-addr.arpa` is a reverse zone (PTR records). */
  readonly name: string;
  /**
   * `public`: its A records hold the public IP (an instance without one gets no record there);
   * `private`: the private IP. Two zones of the same name (split horizon) need one of each.
   * @default "private"
   */
  readonly view?: 'private' | 'public';
  /**
   * The zone lives in this (network) account: its Route 53 calls go through the role
   * `fleetwarden-dns-<fleetId>` there (deploy `FleetwardenDnsRole` in that account).
   * @default - this account
   */
  readonly account?: string;
}

/** One zone (and a reverse zone): the single-zone shorthand. */
export interface FleetwardenSingleZoneProps {
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
   * The A record holds the instance's public IP (never the private one as a fallback).
   * @default false
   */
  readonly publishPublicIp?: boolean;
  readonly zones?: never;
}

/** Several zones instead of the shorthand (setting both is an error naming both). */
export interface FleetwardenZonesProps {
  /**
   * Forward and reverse zones: a record goes to every forward zone whose name is the longest suffix
   * of its name (both views of a split horizon), a PTR to the longest-suffix reverse zone.
   * @default - the shorthand's zone (hostedZoneId, zoneName, …)
   */
  readonly zones: FleetwardenZone[];
  readonly hostedZoneId?: never;
  readonly zoneName?: never;
  readonly reverseZoneId?: never;
  readonly reverseZoneName?: never;
  readonly publishPublicIp?: never;
}

/**
 * Props of `Fleetwarden`: the fleet's configuration, the same keys as the `fleetwarden` block of the
 * repository's cdk.json (README.md#configuration), validated by the same schema with the same messages.
 * The zones: the shorthand (`hostedZoneId`, `zoneName`, …) or `zones`.
 */
export type FleetwardenProps = FleetwardenCommonProps & (FleetwardenSingleZoneProps | FleetwardenZonesProps);

/** The props besides the zones. */
export interface FleetwardenCommonProps extends Partial<Omit<FleetConfigInput, Documented>> {
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
   * Several runner pools, instead of the shorthand `github` + `autoScalingGroupNames` + `fleetTag` +
   * `maxRemovalShare`/`maxRemovalsPerRun`/`allowTerminate` (which is the pool `default`); setting
   * both is an error. Drain, sweep and job-watch run per pool, each with its own breaker budget.
   * @default - the shorthand's single pool
   */
  readonly pools?: FleetwardenPoolProps[];

  /**
   * Member accounts and regions of a hub-and-spoke fleet (README "Hub and spokes"): the hub accepts
   * their forwarded events and acts there through the spoke role (deploy a `FleetwardenSpokeStack`
   * per account and region). Needs `fleetId`.
   * @default - none: the single-account deployment
   */
  readonly spokes?: Array<{ account: string; regions: string[] }>;
  /**
   * Webhook secret to use instead of a generated one (with `pools`: the secret of the pool named
   * `default`; each other pool has its `webhookSecretName` or a generated secret).
   * @default - a generated secret
   */
  readonly webhookSecret?: secretsmanager.ISecret;
}

type Assert<T extends true> = T;

/** The approvals block's and each pool's own keys have defaults (the schema's input): checked by the schema at run time. */
type Checked = Exclude<Documented, 'approvals' | 'pools'>;

type ZoneKeys =
  | 'hostedZoneId'
  | 'zoneName'
  | 'reverseZoneId'
  | 'reverseZoneName'
  | 'publishPublicIp'
  | 'zones';

/** Compile-time check: each documented prop has the type the schema gives its key (webhookSecret aside). */
export type PropsMatchConfig = Assert<
  Required<Pick<FleetwardenCommonProps, Exclude<Checked, ZoneKeys>>> extends Required<
    Pick<FleetConfig, Exclude<Checked, ZoneKeys>>
  >
    ? true
    : false
>;

/** The same check for the zone keys, per form. */
export type ZonePropsMatchConfig = Assert<
  Required<Pick<FleetwardenSingleZoneProps, Exclude<ZoneKeys, 'zones'>>> extends Required<
    Pick<FleetConfig, Exclude<ZoneKeys, 'zones'>>
  >
    ? Required<Pick<FleetwardenZonesProps, 'zones'>> extends Required<Pick<FleetConfig, 'zones'>>
      ? true
      : false
    : false
>;
