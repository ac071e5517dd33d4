import { z } from 'zod';
import { settings as SWEEP } from '../functions/runner-sweep/settings';
import { configField } from '../shared/kernel/settings';
import { DEFAULT_POOL, POOL_LABEL_PATTERN, POOL_NAME_PATTERN } from '../shared/runners/pool';

/** The fleet tag of the shorthand (and of a pool named `default`). */
export const DEFAULT_FLEET_TAG = { key: 'fleetwarden:fleet', value: 'runners' } as const;

const tagPart = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^*?]+$/, 'must be a tag key or value with no * or ? (EC2 filters read them as wildcards)');

const login = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub login');

/** One pool's GitHub scope: exactly one of owner (organisation), owner + repository, or enterprise. */
const PoolGitHubSchema = z
  .strictObject({
    /** Organisation whose self-hosted runners the pool manages. */
    owner: login.optional(),
    /** Repository-level runners of this repository of `owner`. */
    repository: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a repository name (without the owner)')
      .optional(),
    /** Enterprise-level runners of this enterprise (slug). */
    enterprise: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,99})$/, 'must be an enterprise slug')
      .optional(),
    /** GitHub Enterprise Server REST base. @default https://api.github.com */
    apiUrl: z
      .url({ protocol: /^https$/, error: 'must be an https URL like https://ghe.example.com/api/v3' })
      .optional(),
  })
  .refine(
    (g) => (g.enterprise ? !g.owner && !g.repository : g.owner !== undefined),
    'must name exactly one of owner, owner + repository, or enterprise',
  );

/** One runner pool (README "Several runner pools"). */
export const PoolSchema = z.strictObject({
  /** `[a-z][a-z0-9-]{0,19}`, unique: names the pool's constructs, events and audit records. */
  name: z.string().regex(POOL_NAME_PATTERN, 'must be 1-20 of a-z, 0-9, "-", starting with a letter'),
  github: PoolGitHubSchema,
  /** The pool's runner Auto Scaling groups (each in one pool only). */
  autoScalingGroupNames: z
    .array(z.string().regex(/^[\w\-.:@+=]{1,255}$/u, 'must be an Auto Scaling group name (no slashes)'))
    .min(1, 'must name at least 1'),
  /** Labels every runner of the pool carries (besides the fleet label): runners without them are not the pool's. */
  labels: z
    .array(z.string().regex(POOL_LABEL_PATTERN, 'must be a runner label (1-100 characters, no comma)'))
    .optional(),
  /** @default {key: "fleetwarden:fleet", value: <name>} ("runners" for a pool named default) */
  fleetTag: z.strictObject({ key: tagPart(128), value: tagPart(256) }).optional(),
  maxRemovalShare: configField(SWEEP.maxRemovalShare),
  maxRemovalsPerRun: configField(SWEEP.maxRemovalsPerRun),
  allowTerminate: configField(SWEEP.allowTerminate),
  /** The pool's webhook secret in Secrets Manager (the ingress verifies its deliveries with it). */
  webhookSecretName: z.string().min(1).max(512).optional(),
});
export type PoolConfig = z.infer<typeof PoolSchema>;

/** `pools`: the alternative to the shorthand (github + autoScalingGroupNames + fleetTag + sweep keys). */
export const PoolsSchema = z.array(PoolSchema).min(1, 'must name at least 1 pool');

/** The shorthand keys `pools` replaces: setting one beside `pools` is an error naming both. */
export const SHORTHAND_KEYS = [
  'github',
  'autoScalingGroupNames',
  'fleetTag',
  'maxRemovalShare',
  'maxRemovalsPerRun',
  'allowTerminate',
] as const;

/** A pool as the infrastructure builds it: its scope, host, groups, labels, tag and breaker keys. */
export interface RunnerPool {
  name: string;
  /** Built from the shorthand: its constructs keep today's ids. */
  shorthand: boolean;
  github: { owner?: string; repository?: string; enterprise?: string; apiUrl?: string };
  /** The lowercase hostname of the pool's GitHub (`github.com`, or the GHES host of apiUrl). */
  host: string;
  autoScalingGroupNames: string[];
  labels: string[];
  fleetTag: { key: string; value: string };
  maxRemovalShare: number;
  maxRemovalsPerRun: number;
  allowTerminate: boolean;
  webhookSecretName?: string;
}

/** The parts of the fleet config pools come from (structural: config.ts imports this module). */
export interface PoolSource {
  github?: { owner: string; repository?: string | undefined; webhookOnly?: boolean | undefined } | undefined;
  autoScalingGroupNames: string[];
  fleetTag: { key: string; value: string };
  maxRemovalShare: number;
  maxRemovalsPerRun: number;
  allowTerminate: boolean;
  pools?: PoolConfig[] | undefined;
}

const hostOf = (apiUrl: string | undefined) =>
  apiUrl ? new URL(apiUrl).hostname.toLowerCase() : 'github.com';

/** The fleet's pools: the `pools` list, or the shorthand as one pool `default` (none without runner groups). */
export function poolsOf(c: PoolSource): RunnerPool[] {
  if (c.pools) return c.pools.map(fromList);
  if (!c.github || c.github.webhookOnly || c.autoScalingGroupNames.length === 0) return [];
  const { owner, repository } = c.github;
  return [
    {
      name: DEFAULT_POOL,
      shorthand: true,
      github: { owner, ...(repository ? { repository } : {}) },
      host: 'github.com',
      autoScalingGroupNames: c.autoScalingGroupNames,
      labels: [],
      fleetTag: c.fleetTag,
      maxRemovalShare: c.maxRemovalShare,
      maxRemovalsPerRun: c.maxRemovalsPerRun,
      allowTerminate: c.allowTerminate,
    },
  ];
}

function fromList(p: PoolConfig): RunnerPool {
  return {
    name: p.name,
    shorthand: false,
    github: p.github,
    host: hostOf(p.github.apiUrl),
    autoScalingGroupNames: p.autoScalingGroupNames,
    labels: p.labels ?? [],
    fleetTag: p.fleetTag ?? defaultFleetTag(p.name),
    maxRemovalShare: p.maxRemovalShare as number,
    maxRemovalsPerRun: p.maxRemovalsPerRun as number,
    allowTerminate: p.allowTerminate as boolean,
    ...(p.webhookSecretName ? { webhookSecretName: p.webhookSecretName } : {}),
  };
}

/** A pool's fleet tag when it names none: its own name (`runners` for `default`, as the shorthand). */
export const defaultFleetTag = (name: string) =>
  name === DEFAULT_POOL ? { ...DEFAULT_FLEET_TAG } : { key: DEFAULT_FLEET_TAG.key, value: name };

/** A pool's name in construct and output ids (`ci-gpu` -> `CiGpu`). */
export const poolId = (name: string) => name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

/** Which runner listing a pool reads: pools of one scope see each other's runners. */
const scopeOf = (p: PoolConfig) =>
  [
    hostOf(p.github.apiUrl),
    p.github.enterprise ? `enterprise:${p.github.enterprise}` : `owner:${p.github.owner?.toLowerCase()}`,
    p.github.repository?.toLowerCase() ?? '',
  ].join('/');

type Issue = { code: 'custom'; path: (string | number)[]; message: string };

/**
 * The checks across pools (the schema's superRefine): unique names, an ASG in one pool only, a
 * fleet tag in one pool only (two sweeps on one tag would fight over its instances), and pools
 * reading one runner listing told apart by labels (neither one's labels all in the other's).
 */
export function poolsProblems(pools: readonly PoolConfig[] | undefined): Issue[] {
  if (!pools) return [];
  const issues: Issue[] = [];
  const add = (i: number, key: string, message: string) =>
    issues.push({ code: 'custom', path: ['pools', i, key], message });
  const names = new Map<string, number>();
  const ids = new Map<string, string>();
  const groups = new Map<string, string>();
  const tags = new Map<string, string>();
  pools.forEach((p, i) => {
    if (names.has(p.name)) add(i, 'name', 'pool names must be unique');
    else if (ids.has(poolId(p.name)))
      add(i, 'name', `pool "${ids.get(poolId(p.name))}" would name the same outputs (${poolId(p.name)})`);
    names.set(p.name, i);
    ids.set(poolId(p.name), p.name);
    for (const g of p.autoScalingGroupNames) {
      const owner = groups.get(g);
      if (owner !== undefined && owner !== p.name)
        add(i, 'autoScalingGroupNames', `"${g}" is already in pool "${owner}": an ASG belongs to one pool`);
      groups.set(g, p.name);
    }
    const tag = JSON.stringify(p.fleetTag ?? defaultFleetTag(p.name));
    const other = tags.get(tag);
    if (other !== undefined)
      add(
        i,
        'fleetTag',
        `pool "${other}" has this fleet tag too: their sweeps would fight over its instances`,
      );
    tags.set(tag, p.name);
  });
  issues.push(...labelProblems(pools));
  return issues;
}

/** Pools of one scope see each other's runners: their labels must tell them apart. */
function labelProblems(pools: readonly PoolConfig[]): Issue[] {
  const issues: Issue[] = [];
  const within = (a: readonly string[], b: readonly string[]) => a.every((l) => b.includes(l));
  for (let j = 0; j < pools.length; j++)
    for (let i = 0; i < j; i++) {
      const [a, b] = [pools[i] as PoolConfig, pools[j] as PoolConfig];
      if (scopeOf(a) !== scopeOf(b)) continue;
      const at = !a.labels?.length ? i : j;
      const other = at === i ? b : a;
      if (a.labels?.length && b.labels?.length && !within(a.labels, b.labels) && !within(b.labels, a.labels))
        continue;
      issues.push({
        code: 'custom',
        path: ['pools', at, 'labels'],
        message: `pool "${other.name}" reads the same runners (same GitHub scope): both need labels, and neither one's labels all in the other's, or one pool's sweep would take the other's runners for its own`,
      });
    }
  return issues;
}

/**
 * `pools` beside a shorthand key: an error naming both. A key with a default counts as set when it
 * differs from it (the parsed config is parsed again as construct props, defaults filled in).
 */
export function shorthandBesidePools(c: PoolSource): Issue[] {
  if (!c.pools) return [];
  const set: Record<(typeof SHORTHAND_KEYS)[number], boolean> = {
    github: c.github !== undefined,
    autoScalingGroupNames: c.autoScalingGroupNames.length > 0,
    fleetTag: c.fleetTag.key !== DEFAULT_FLEET_TAG.key || c.fleetTag.value !== DEFAULT_FLEET_TAG.value,
    maxRemovalShare: c.maxRemovalShare !== SWEEP.maxRemovalShare.default,
    maxRemovalsPerRun: c.maxRemovalsPerRun !== SWEEP.maxRemovalsPerRun.default,
    allowTerminate: c.allowTerminate !== SWEEP.allowTerminate.default,
  };
  const own = (k: string) =>
    ['github', 'autoScalingGroupNames', 'fleetTag'].includes(k) ? k : 'breaker keys';
  return SHORTHAND_KEYS.filter((k) => set[k]).map((k) => ({
    code: 'custom',
    path: [k],
    message: `\`pools\` and the shorthand \`${k}\` are alternatives: set each pool's ${own(k)} in \`pools\` and drop \`${k}\``,
  }));
}
