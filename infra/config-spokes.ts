import * as z from 'zod';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** One member account of a hub-and-spoke fleet and the regions its spoke stacks are deployed in. */
export const SpokeSchema = z.strictObject({
  /** The member account (its events are forwarded to the hub; the hub assumes its spoke role). */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  /** Regions with fleet instances in that account: one spoke stack each. */
  regions: z
    .array(z.string().regex(REGION, 'must be a region like eu-west-1'))
    .min(1, 'must name at least 1 region'),
});
export type SpokeConfig = z.infer<typeof SpokeSchema>;

/**
 * `spokes`: the member accounts and regions of a hub-and-spoke deployment (README "Hub and spokes").
 * @default none: the single-account deployment
 */
export const SpokesSchema = z.array(SpokeSchema).superRefine((spokes, ctx) => {
  const seen = new Set<string>();
  for (const [i, s] of spokes.entries()) {
    if (seen.has(s.account))
      ctx.addIssue({
        code: 'custom',
        path: [i, 'account'],
        message: `${s.account} is listed twice: give it one entry with all its regions`,
      });
    seen.add(s.account);
  }
});

/** Cross-key rules of `spokes` (the spoke roles are named after the fleet id). */
export function checkSpokes(
  c: { spokes?: readonly SpokeConfig[] | undefined; fleetId?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((c.spokes?.length ?? 0) > 0 && !c.fleetId)
    ctx.addIssue({
      code: 'custom',
      path: ['fleetId'],
      message:
        'spokes need a fleetId: the roles the hub assumes in each spoke account are named fleetwarden-spoke-<fleetId>',
    });
}
