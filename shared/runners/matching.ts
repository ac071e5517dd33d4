/**
 * How a GitHub runner is tied to its EC2 instance (documented in shared/runners/README.md):
 * 1. primary: a runner label `fleetwarden-instance:<instance-id>` (set by the runner's start script
 *    from instance metadata). The label is also the fleet's explicit claim of ownership.
 * 2. fallback: a runner name equal to the instance id or ending in `-<instance-id>`. A name alone
 *    does not prove ownership: such runners are only removed when EC2 confirms the instance carries
 *    the fleet tag.
 */
export const INSTANCE_LABEL_PREFIX = 'fleetwarden-instance:';
/**
 * Optional label `fleetwarden-region:<region>` naming the region of the runner's instance: a sweep
 * in another region never touches the runner (EC2 there cannot describe its instance).
 */
export const REGION_LABEL_PREFIX = 'fleetwarden-region:';

/**
 * Label `fleetwarden-fleet:<fleet id>` naming the fleet a runner belongs to (the fleet id is the
 * construct's `fleetId`, by default the AWS account id). A runner labelled with another fleet's id is
 * never touched; the instance label together with this fleet's own label is the claim of ownership
 * that lets the sweep remove a runner whose instance EC2 no longer describes.
 */
export const FLEET_LABEL_PREFIX = 'fleetwarden-fleet:';

/**
 * Instance tag `fleetwarden:exempt` = `true` (any case): the sweep never terminates the instance
 * (it is reported instead), and the TerminateInstances grant is denied on it too.
 */
export const EXEMPT_TAG = 'fleetwarden:exempt';

/** True when the instance's tags exempt it from termination. */
export function isExempt(tags: Readonly<Record<string, string>>): boolean {
  return (tags[EXEMPT_TAG] ?? '').trim().toLowerCase() === 'true';
}

/** The fleet id a runner's labels name, if any. */
export function fleetIdOf(runner: { labels: readonly string[] }): string | undefined {
  const label = runner.labels.find((l) => l.startsWith(FLEET_LABEL_PREFIX));
  return label ? label.slice(FLEET_LABEL_PREFIX.length) : undefined;
}

/** Custom label a draining runner is left with (with its other `fleetwarden-` labels). */
export const DRAINING_LABEL = 'fleetwarden-draining';

/** The labels a cordoned runner keeps: its fleetwarden-* labels, plus DRAINING_LABEL. */
export function cordonLabels(runner: { labels: readonly string[] }): string[] {
  const keep = runner.labels.filter((l) => l.startsWith('fleetwarden-') && l !== DRAINING_LABEL);
  return [...keep, DRAINING_LABEL];
}

/** The region a runner's labels name, if any. */
export function regionOf(runner: { labels: readonly string[] }): string | undefined {
  const label = runner.labels.find((l) => l.startsWith(REGION_LABEL_PREFIX));
  return label ? label.slice(REGION_LABEL_PREFIX.length) : undefined;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const NAME_SUFFIX = /(?:^|-)(i-[0-9a-f]{8,17})$/;

export interface RunnerMatch {
  instanceId: string;
  by: 'label' | 'name';
}

export function instanceIdOf(runner: { name: string; labels: readonly string[] }): RunnerMatch | undefined {
  for (const label of runner.labels) {
    if (!label.startsWith(INSTANCE_LABEL_PREFIX)) continue;
    const id = label.slice(INSTANCE_LABEL_PREFIX.length);
    if (INSTANCE_ID.test(id)) return { instanceId: id, by: 'label' };
  }
  const m = runner.name.match(NAME_SUFFIX);
  return m?.[1] ? { instanceId: m[1], by: 'name' } : undefined;
}

/**
 * The runner names the documented start script gives an instance's runner (`ci-<instance-id>`, or
 * the bare instance id): looked up by exact name (GitHub's `?name=`) to confirm an absence.
 */
export function conventionalRunnerNames(instanceId: string): string[] {
  return [`ci-${instanceId}`, instanceId];
}
