import { z } from 'zod';

/** CloudWatch Logs retention values (days) that RetentionInDays accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const dnsName = z
  .string()
  .transform((v) => v.toLowerCase().replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .max(253)
      .regex(
        /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/,
        'must be a DNS name like fleet.example.com',
      ),
  );

/**
 * The fleet's configuration, read from the `fleetwarden` key of cdk.json context (or `-c
 * fleetwarden='{...}'`). Every field is documented in README.md#configuration.
 */
export const FleetConfigSchema = z
  .object({
    /** Route 53 hosted zone the fleet writes instance records into. */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id like Z0123456789ABC'),
    /** The zone's DNS name; instance names must fall inside it. */
    zoneName: dnsName,
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
    dnsNameTag: z.string().min(1).max(128).default('fleetwarden:dns-name'),
    recordTtl: z.number().int().min(1).max(86400).default(60),
    publishPublicIp: z.boolean().default(false),
    /** Auto Scaling groups running GitHub runners (terminate lifecycle hooks are handled for these). */
    autoScalingGroupNames: z
      .array(z.string().regex(/^[\w\-.:@+=]{1,255}$/u, 'must be an Auto Scaling group name (no slashes)'))
      .default([]),
    github: z
      .object({
        /** Organisation whose self-hosted runners the fleet manages. */
        owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub organisation login'),
        /** Repository-level runners instead of organisation-level ones. */
        repository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a repository name (without the owner)')
          .optional(),
      })
      .optional(),
    /** Tag that marks the fleet's runner instances (scopes TerminateInstances and the sweep). */
    fleetTag: z
      .object({ key: z.string().min(1).max(128), value: z.string().min(1).max(256) })
      .default({ key: 'fleetwarden:fleet', value: 'runners' }),
    /** Safe by default: remediations only audit what they would do until this is set to false. */
    dryRun: z.boolean().default(true),
    /** The circuit breaker refuses a run that would remove more than this share of the fleet. */
    maxRemovalShare: z.number().gt(0).max(1).default(0.2),
    /** At most this many removals per sweep run; the rest are deferred to the next run. */
    maxRemovalsPerRun: z.number().int().min(1).max(1000).default(100),
    /** Let the sweep terminate instances that never registered (tag-scoped permission). */
    allowTerminate: z.boolean().default(false),
    alarmEmail: z.email().optional(),
    auditRetentionDays: z.number().int().min(1).max(3650).default(400),
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(90),
    /** IAM principal ARN allowed to assume the read-only Investigator role. @default the account root */
    investigatorPrincipalArn: z.string().startsWith('arn:').optional(),
  })
  .refine((c) => (c.reverseZoneId === undefined) === (c.reverseZoneName === undefined), {
    message: 'reverseZoneId and reverseZoneName go together: set both or neither',
    path: ['reverseZoneName'],
  });
export type FleetConfig = z.infer<typeof FleetConfigSchema>;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Parse the `fleetwarden` context; every problem is listed with the path and the value given. */
export function parseFleetConfig(input: unknown): FleetConfig {
  const result = FleetConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? '<unset>' : JSON.stringify(value);
    return `  fleetwarden.${issue.path.map(String).join('.')}: ${issue.message}, got ${shown}`;
  });
  throw new Error(
    `invalid cdk.json context "fleetwarden" (see README.md#configuration):\n${lines.join('\n')}`,
  );
}
