import { z } from 'zod';

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

export const PostureReportSchema = z.object({
  kind: z.literal('fleetwarden.posture'),
  version: z.literal(1),
  generatedAt: z.string(),
  regions: z.array(z.string()),
  findings: z.array(FindingSchema),
  /** Every API call the scan made, with its request id (the call recorder's evidence). */
  calls: z.array(z.object({ operation: z.string(), requestId: z.string(), region: z.string() })).default([]),
});
export type PostureReport = z.infer<typeof PostureReportSchema>;

export function findingKey(check: Finding['check'], region: string, resourceId: string): string {
  return `${check}:${region}:${resourceId}`;
}
