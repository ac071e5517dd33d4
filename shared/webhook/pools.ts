import '../core/zod-locale';
import * as z from 'zod/mini';
import { ConfigError } from '../core/errors';
import { DEFAULT_POOL, DEFAULT_WEBHOOK_HOST } from '../github/workflow-job-names';
import type { Setting } from '../kernel/settings';

/**
 * One runner pool as the webhook ingress sees it: its name, the host of its GitHub (`github.com` or
 * a GHES hostname, as X-GitHub-Enterprise-Host names it) and the secret its webhooks are signed with.
 */
export interface WebhookPool {
  pool: string;
  host: string;
  secretArn: string;
}

/** A pool name (design: `[a-z][a-z0-9-]{0,19}`). */
export const POOL_NAME = /^[a-z][a-z0-9-]{0,19}$/;

const PoolSchema = z.object({
  pool: z.string().check(z.regex(POOL_NAME, 'pool names are [a-z][a-z0-9-]{0,19}')),
  host: z.pipe(
    z.pipe(
      z.string(),
      z.transform((h: string) => h.toLowerCase()),
    ),
    z
      .string()
      .check(z.regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'host is a hostname (ghe.example.com), not a URL')),
  ),
  secretArn: z.string().check(z.startsWith('arn:')),
});

/**
 * The pools list: at least one, names unique, and no secret shared by two pools (a delivery is
 * attributed to the pool whose secret verifies it: with one secret for two, it could not be).
 */
export const WebhookPoolsSchema = z.array(PoolSchema).check(
  z.minLength(1, 'must name at least one pool'),
  z.superRefine((pools, ctx) => {
    const names = new Set<string>();
    const bySecret = new Map<string, string>();
    for (const p of pools) {
      if (names.has(p.pool)) ctx.addIssue({ code: 'custom', message: `pool "${p.pool}" is listed twice` });
      names.add(p.pool);
      const other = bySecret.get(p.secretArn);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: `pools ${other} and ${p.pool} share the webhook secret ${p.secretArn}: give each its own`,
        });
      bySecret.set(p.secretArn, p.pool);
    }
  }),
);

/** A string holding JSON, parsed ("not JSON" otherwise). */
const fromJson = z.pipe(
  z.string(),
  z.transform((v: string, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'not JSON', input: v });
      return z.NEVER;
    }
  }),
);

type Pools = readonly WebhookPool[] | undefined;

/** A setting carrying the pools list as JSON in one environment variable. */
export function webhookPoolsSetting(env: string): Setting<Pools> {
  return {
    env,
    doc: 'The runner pools whose webhooks come in (JSON list of {pool, host, secretArn}); unset: WEBHOOK_SECRET_ARN is pool default on github.com.',
    schema: z.pipe(fromJson, WebhookPoolsSchema) as unknown as Setting<Pools>['schema'],
    value: z.optional(WebhookPoolsSchema) as unknown as Setting<Pools>['value'],
    toEnv: (v) => (v === undefined ? '' : JSON.stringify(v)),
    optional: true,
  };
}

/**
 * The pools an ingress serves: WEBHOOK_POOLS, or today's single WEBHOOK_SECRET_ARN as pool
 * `default` on github.com. Exactly one of the two (ConfigError naming both otherwise).
 */
export function webhookPoolsOf(s: {
  secretArn: string | undefined;
  pools: readonly WebhookPool[] | undefined;
}): readonly WebhookPool[] {
  if ((s.secretArn === undefined) === (s.pools === undefined))
    throw new ConfigError(
      'set exactly one of WEBHOOK_SECRET_ARN (one pool, default, on github.com) and WEBHOOK_POOLS (a list of pools)',
    );
  return s.pools ?? [{ pool: DEFAULT_POOL, host: DEFAULT_WEBHOOK_HOST, secretArn: s.secretArn as string }];
}
