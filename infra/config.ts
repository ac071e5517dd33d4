import { z } from 'zod';
import { settings as SWEEP } from '../functions/runner-sweep/settings';
import { webhookIngress } from '../functions/webhook-ingress/definition';
import {
  APPROVAL_SETTINGS as APPROVAL,
  APPROVER_BOUNDS,
  isApproverPattern,
} from '../shared/approvals/settings';
import { ConfigError } from '../shared/core/errors';
import { DNS_SETTINGS as DNS } from '../shared/dns/settings';
import type { Setting } from '../shared/kernel/settings';
import { PoolsSchema, poolsProblems, shorthandBesidePools } from './config-pools';
import { checkSpokes, SpokesSchema } from './config-spokes';
import { dnsName, ZonesSchema, zonesConfigProblems, zonesOfConfig } from './config-zones';

/** CloudWatch Logs retention values (days) that RetentionInDays accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * A config key that is a remediation's setting: the setting's value schema (its bounds), default
 * and doc, declared once in the definition. The setting's schemas are zod/mini (functions bundle
 * them); the key wraps them in classic zod like the rest of this schema, with the doc as its
 * description (`configField` builds the same in mini form; classic and mini schemas nest freely).
 */
function fromSetting<T>(s: Setting<T>): z.ZodType<T> {
  if (s.default === undefined) throw new ConfigError(`setting ${s.env} declares no default for the config`);
  return z._default(s.value, s.default as never).describe(s.doc) as z.ZodType<T>;
}

/**
 * Human approval of irreversible actions (issue 12): who may approve, how many, for how long, and
 * who is told. Bounds and defaults are the approval settings' (shared/approvals/settings.ts).
 */
const ApprovalsSchema = z
  .strictObject({
    /** IAM principal ARN patterns allowed to approve (they alone may assume the Approver role). */
    approvers: z
      .array(z.string().refine(isApproverPattern, `must be ${APPROVER_BOUNDS}`))
      .min(1, 'must name at least 1'),
    required: fromSetting(APPROVAL.required),
    twoPerson: fromSetting(APPROVAL.twoPerson),
    expiry: fromSetting(APPROVAL.expiry),
    notify: z
      .strictObject({
        /** Addresses subscribed to the proposal topic. */
        emails: z.array(z.email()).default([]),
        /** Also open a GitHub issue per proposal in this repository of `github.owner`. */
        githubIssues: z
          .strictObject({
            repository: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a repository name (without the owner)'),
          })
          .optional(),
      })
      .default({ emails: [] }),
  })
  .superRefine((a, ctx) => {
    if (a.notify.githubIssues)
      ctx.addIssue({
        code: 'custom',
        path: ['notify', 'githubIssues'],
        message:
          'no GitHub issue notifier is deployed yet (proposals are announced on the topic: notify.emails); remove it',
      });
    // a wildcard pattern may match many people; literal ARNs are one approver each
    if (a.approvers.some((p) => p.includes('*')) || a.required <= a.approvers.length) return;
    ctx.addIssue({
      code: 'custom',
      path: ['required'],
      message: `${a.required} distinct approvals can never be given by ${a.approvers.length} approver${a.approvers.length === 1 ? '' : 's'} (name more, or a pattern with *)`,
    });
  });

/**
 * The fleet's configuration, read from the `fleetwarden` key of cdk.json context (or `-c
 * fleetwarden='{...}'`). Every field is documented in README.md#configuration.
 */
export const FleetConfigSchema = z
  .strictObject({
    /** Route 53 hosted zone the fleet writes instance records into (one zone; else `zones`). */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id like Z0123456789ABC')
      .optional(),
    /** The zone's DNS name; instance names must fall inside it. */
    zoneName: dnsName.optional(),
    /**
     * Several zones instead of the five single-zone keys (config-zones.ts): forward and reverse,
     * public and private views (split horizon), zones of another account. @default the shorthand's
     */
    zones: ZonesSchema.optional(),
    /** Optional reverse (in-addr.arpa) zone for PTR records. */
    reverseZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id')
      .optional(),
    /** Name of the reverse zone (e.g. 10.in-addr.arpa); required with reverseZoneId. */
    reverseZoneName: dnsName
      .refine((v) => v.endsWith('.in-addr.arpa'), 'must end in .in-addr.arpa')
      .optional(),
    /** Instance tag whose value names the instance's record. */
    dnsNameTag: fromSetting(DNS.nameTag),
    recordTtl: fromSetting(DNS.ttl),
    publishPublicIp: fromSetting(DNS.publishPublicIp),
    /** Auto Scaling groups running GitHub runners (terminate lifecycle hooks are handled for these). */
    autoScalingGroupNames: z
      .array(z.string().regex(/^[\w\-.:@+=]{1,255}$/u, 'must be an Auto Scaling group name (no slashes)'))
      .default([]),
    github: z
      .strictObject({
        /** Organisation whose self-hosted runners the fleet manages. */
        owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub organisation login'),
        /** Repository-level runners instead of organisation-level ones. */
        repository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a repository name (without the owner)')
          .optional(),
        /** Deploy only the webhook ingress, no runner remediation (needs no autoScalingGroupNames). */
        webhookOnly: z.boolean().optional(),
      })
      .optional(),
    /**
     * The fleet's identity: runners are labelled `fleetwarden-fleet:<fleetId>` and the sweep only
     * removes runners carrying its own. @default the stack's account id
     */
    fleetId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'must be 1-40 letters, digits, ".", "_" or "-"')
      .optional(),
    /**
     * Owner id in the DNS ownership markers: dns-sync and dns-reconcile touch only records whose
     * marker carries it, so deployments sharing a zone need different ids. Deployments from before
     * this key wrote "fleetwarden" (README "Upgrading"). @default `fleetwarden-<fleetId>-<region>`
     */
    ownerId: z.optional(DNS.ownerId.value).describe(DNS.ownerId.doc),
    /** Tag that marks the fleet's runner instances (scopes TerminateInstances and the sweep). */
    fleetTag: z
      .strictObject({
        key: z
          .string()
          .min(1)
          .max(128)
          .regex(/^[^*?]+$/, 'must be a tag key with no * or ? (EC2 filters read them as wildcards)'),
        value: z
          .string()
          .min(1)
          .max(256)
          .regex(/^[^*?]+$/, 'must be a tag value with no * or ? (EC2 filters read them as wildcards)'),
      })
      .default({ key: 'fleetwarden:fleet', value: 'runners' }),
    /** Safe by default: remediations only audit what they would do until this is set to false. */
    dryRun: z.boolean().default(true),
    /** The circuit breaker refuses a run that would remove more than this share of the fleet. */
    maxRemovalShare: fromSetting(SWEEP.maxRemovalShare),
    /**
     * Seconds of the sweep's rolling removal budget: removals within any window this long never exceed
     * max(1, floor(maxRemovalShare x fleet runners listed)).
     */
    removalBudgetWindow: fromSetting(SWEEP.budgetWindow),
    /**
     * Seconds: webhook-ingress ignores a workflow_job whose own time is older than this (replays of a
     * captured body). At most the webhook's 3-day dedupe window.
     */
    maxJobAge: fromSetting(webhookIngress.settings.maxJobAgeSeconds),
    /** At most this many removals per sweep run; the rest are deferred to the next run. */
    maxRemovalsPerRun: fromSetting(SWEEP.maxRemovalsPerRun),
    /** Let the sweep terminate instances that never registered (tag-scoped permission). */
    allowTerminate: fromSetting(SWEEP.allowTerminate),
    alarmEmail: z.email().optional(),
    auditRetentionDays: z.number().int().min(1).max(3650).default(400),
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(90),
    /** IAM principal ARN allowed to assume the read-only Investigator role. @default the account root */
    investigatorPrincipalArn: z.string().startsWith('arn:').optional(),
    /**
     * Remediations deployed from their definition alone (functions/registry.ts, docs/remediations.md),
     * each opted in by name with its settings: `{"orphaned-volumes": {"gracePeriod": 86400}}`. Settings
     * named like fleet-wide keys (dryRun, fleetTag, autoScalingGroupNames) default to those. Names and
     * settings are checked against the definitions when the stack is built. @default none
     */
    remediations: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /**
     * Human approval of irreversible actions and of runs the breaker refuses (README "Approvals").
     * @default none: no approval infrastructure; those actions are reported only
     */
    approvals: ApprovalsSchema.optional(),
    /**
     * Several runner pools (README "Several runner pools"), instead of the shorthand github +
     * autoScalingGroupNames + fleetTag + sweep keys (the pool `default`). @default the shorthand's pool
     */
    pools: PoolsSchema.optional(),
    /** Member accounts and regions of a hub-and-spoke fleet (infra/config-spokes.ts). @default none */
    spokes: SpokesSchema.optional(),
  })
  .refine((c) => (c.reverseZoneId === undefined) === (c.reverseZoneName === undefined), {
    message: 'reverseZoneId and reverseZoneName go together: set both or neither',
    path: ['reverseZoneName'],
  })
  .superRefine((c, ctx) => {
    for (const issue of [...shorthandBesidePools(c), ...poolsProblems(c.pools)]) ctx.addIssue(issue);
    const runners = c.autoScalingGroupNames.length > 0;
    if (c.github && !c.github.webhookOnly && !runners) {
      ctx.addIssue({
        code: 'custom',
        path: ['autoScalingGroupNames'],
        message:
          'github is set but no runner Auto Scaling group is named: runner remediation (drain, sweep, job watch) would not be deployed; name the runner ASGs, or set github.webhookOnly: true to deploy only the webhook ingress',
      });
    }
    if (c.github?.webhookOnly && runners) {
      ctx.addIssue({
        code: 'custom',
        path: ['github', 'webhookOnly'],
        message:
          'webhookOnly deploys no runner remediation, but autoScalingGroupNames names runner ASGs: drop one of the two',
      });
    }
  })
  .superRefine(checkSpokes);
export type FleetConfig = z.infer<typeof FleetConfigSchema>;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

type SchemaNode = { _zod?: { def?: { innerType?: SchemaNode } }; shape?: Record<string, SchemaNode> };

/** The keys the schema knows for the object at `path` (through optional/default wrappers). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const unwrap = (s: SchemaNode | undefined) => {
    let node = s;
    while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
    return node;
  };
  let node = unwrap(FleetConfigSchema as unknown as SchemaNode);
  for (const key of path) node = unwrap(node?.shape?.[String(key)]);
  return Object.keys(node?.shape ?? {});
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** The known key a typo most likely meant: case-insensitive edit distance, or a prefix of it. */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  const u = unknown.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const k = key.toLowerCase();
    const distance = k.startsWith(u) || u.startsWith(k) ? 0.5 : editDistance(u, k);
    if (!best || distance < best.distance) best = { key, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(2, Math.floor(unknown.length / 3)) ? best.key : undefined;
}

const shown = (value: unknown) => (value === undefined ? '<unset>' : JSON.stringify(value));
const where = (path: readonly PropertyKey[]) => ['fleetwarden', ...path.map(String)].join('.');

function describeIssue(input: unknown, issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const guess = nearestKey(key, known);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      return `  ${where([...issue.path, key])}: unknown key${hint}, got ${shown(valueAt(input, [...issue.path, key]))}`;
    });
  }
  return [`  ${where(issue.path)}: ${issue.message}, got ${shown(valueAt(input, issue.path))}`];
}

/** The hosted zone id of cdk.json's example configuration: it names no real zone. */
export const EXAMPLE_HOSTED_ZONE_ID = 'Z0EXAMPLE00000000000';

/**
 * Refuse to deploy cdk.json's example configuration: its zone does not exist, and a stack deployed
 * with it would sync DNS into nothing. `-c fleetwarden:example=true` lets CI synthesize it.
 */
export function refuseExampleConfig(config: FleetConfig, allowExample: unknown): void {
  if (!zonesOfConfig(config).some((z) => z.id === EXAMPLE_HOSTED_ZONE_ID)) return;
  if (allowExample === true || allowExample === 'true') return;
  throw new ConfigError(
    `fleetwarden.hostedZoneId is the example placeholder ${EXAMPLE_HOSTED_ZONE_ID} from cdk.json: ` +
      'set your own zone (and the rest of the fleet) in the "fleetwarden" block of cdk.json or with -c fleetwarden=\'{...}\', ' +
      'see README.md#configuration (to synthesize the example only, as npm run synth does: -c fleetwarden:example=true)',
  );
}

/** `-c fleetwarden='{...}'` reaches the app as a string: parse it, saying so when it is not JSON. */
function fromContext(input: unknown): unknown {
  if (typeof input !== 'string') return input ?? {};
  try {
    return JSON.parse(input);
  } catch (err) {
    throw new ConfigError(
      `invalid cdk.json context "fleetwarden": context "fleetwarden" is a string but not valid JSON (${(err as Error).message}): ${input}\n` +
        `  pass it as JSON, e.g. -c fleetwarden='{"hostedZoneId":"Z…","zoneName":"fleet.example.com"}' (see README.md#configuration)`,
      { cause: err },
    );
  }
}

/**
 * Parse the `fleetwarden` context (an object from cdk.json, or the JSON string `-c` passes); every
 * problem is listed with the path and the value given, unknown keys with the nearest known key.
 * `source` names what was given in the first line (the Fleetwarden construct: its props).
 */
export function parseFleetConfig(context: unknown, source = 'cdk.json context "fleetwarden"'): FleetConfig {
  const input = fromContext(context);
  const result = FleetConfigSchema.safeParse(input);
  // the zones rules read the config as given: a default must not count as set
  const zoneLines = zonesConfigProblems(input).map(
    (p) => `  ${where(p.path)}: ${p.message}, got ${shown(valueAt(input, p.path))}`,
  );
  if (result.success && zoneLines.length === 0) return result.data;
  const lines = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => describeIssue(input, i))),
    ...zoneLines,
  ];
  throw new ConfigError(`invalid ${source} (see README.md#configuration):\n${lines.join('\n')}`, {
    cause: result.success ? zoneLines : result.error,
  });
}
