import '../core/zod-locale';
import * as z from 'zod/mini';

/**
 * One encryption fact about one resource, and the API call that proved it. "gap" means the
 * resource is not encrypted the way fleetwarden requires (at rest, with KMS where we own the key).
 */
export const FindingSchema = z.object({
  /** Stable across runs: `${check}:${region}:${resourceId}` — what a baseline diff keys on. */
  key: z.string(),
  check: z.enum([
    'ebs-default-encryption',
    'ebs-volume',
    'ebs-snapshot',
    'log-group-kms',
    'sqs-sse',
    'dynamodb-sse',
  ]),
  region: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  status: z.enum(['ok', 'gap']),
  detail: z.string(),
  evidence: z.object({ operation: z.string(), requestId: z.string() }),
});
export type Finding = z.infer<typeof FindingSchema>;

/**
 * What a scan looked at, per check and region, so a report never reads clean by omission:
 * - `checked`: the listing call(s) in `evidence` were made; `found` resources came back (0 = none found);
 * - `not-found`: the named resource (`scope`: the audit table) does not exist there (evidence: the call);
 * - `not-checked`: the scan did not look (`reason` says why), so nothing is claimed about it.
 * `scope` is what the check was limited to: the name prefix (log groups, queues) or the table name.
 */
export const CoverageSchema = z.object({
  check: FindingSchema.shape.check,
  region: z.string(),
  status: z.enum(['checked', 'not-found', 'not-checked']),
  scope: z.optional(z.string()),
  found: z.int().check(z.nonnegative()),
  reason: z.optional(z.string()),
  evidence: z._default(z.array(z.object({ operation: z.string(), requestId: z.string() })), []),
});
export type Coverage = z.infer<typeof CoverageSchema>;

export const PostureReportSchema = z.object({
  kind: z.literal('fleetwarden.posture'),
  version: z.literal(1),
  generatedAt: z.string(),
  regions: z.array(z.string()),
  findings: z.array(FindingSchema),
  /** Every API call the scan made, with its request id (the call recorder's evidence). */
  calls: z._default(
    z.array(z.object({ operation: z.string(), requestId: z.string(), region: z.string() })),
    [],
  ),
  /** What was checked where (absent from reports written before it existed: then nothing is known). */
  coverage: z._default(z.array(CoverageSchema), []),
  /** Checks that failed (a call denied, throttled, failed or without a request id), with the cause chain. */
  failures: z._default(
    z.array(
      z.object({
        check: FindingSchema.shape.check,
        region: z.string(),
        operation: z.string(),
        causes: z.array(z.string()),
      }),
    ),
    [],
  ),
});
export type PostureReport = z.infer<typeof PostureReportSchema>;

export function findingKey(check: Finding['check'], region: string, resourceId: string): string {
  return `${check}:${region}:${resourceId}`;
}
