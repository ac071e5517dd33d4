import {
  type ActionKind,
  type EventPatternSpec,
  type IamGrant,
  patternOf,
  type RemediationSpec,
} from '../../shared/kernel/definition';

/** A remediation the hub deploys, with the setting values it was deployed with. */
export interface DeployedRemediation {
  // biome-ignore lint/suspicious/noExplicitAny: any definition of the registry (settings unknown here)
  readonly definition: RemediationSpec<any, any>;
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * The services a hub function calls in a spoke (through the spoke role): the fleet's instances,
 * volumes and groups live there. Route 53 (the hub's or the DNS account's zones), DynamoDB, SQS,
 * Secrets Manager and GitHub stay with the hub.
 */
export const SPOKE_SERVICES = ['ec2', 'autoscaling'] as const;

const inSpoke = (action: string) => SPOKE_SERVICES.some((s) => action.startsWith(`${s}:`));

/** A definition's declared statements: its reads, then each action kind's grants. */
function declared(d: DeployedRemediation): IamGrant[] {
  const settings = d.settings as never;
  const kinds = Object.values(d.definition.actions as Record<string, ActionKind<never>>);
  return [...d.definition.reads(settings), ...kinds.flatMap((k) => [...k.iam(settings)])];
}

/** Every EC2/Auto Scaling action the deployed remediations declare (what the spoke role may do). */
export function declaredSpokeActions(deployed: readonly DeployedRemediation[]): Set<string> {
  return new Set(deployed.flatMap(declared).flatMap((g) => g.actions.filter(inSpoke)));
}

/**
 * The spoke role's statements: each declared statement's spoke-side actions, with the same
 * resources and conditions (tag and group conditions stay), deduplicated. Nothing is added.
 */
export function spokeGrants(deployed: readonly DeployedRemediation[]): IamGrant[] {
  const out = new Map<string, IamGrant>();
  for (const g of deployed.flatMap(declared)) {
    const actions = g.actions.filter(inSpoke);
    if (actions.length === 0) continue;
    const grant: IamGrant = { ...g, actions };
    out.set(JSON.stringify(grant), grant);
  }
  return [...out.values()];
}

/** The default-bus event patterns of the deployed remediations, one per distinct pattern. */
export function spokeForwardPatterns(
  deployed: readonly DeployedRemediation[],
): Array<{ id: string; pattern: EventPatternSpec }> {
  const out = new Map<string, { id: string; pattern: EventPatternSpec }>();
  for (const d of deployed)
    for (const t of d.definition.triggers) {
      if (t.kind !== 'events' || t.bus !== 'default') continue;
      const pattern = patternOf(t.pattern, d.settings);
      const key = JSON.stringify(pattern);
      if (!out.has(key)) out.set(key, { id: uniqueId(t.id, out), pattern });
    }
  return [...out.values()];
}

function uniqueId(id: string, taken: Map<string, { id: string }>): string {
  const ids = new Set([...taken.values()].map((v) => v.id));
  let candidate = id;
  for (let i = 2; ids.has(candidate); i++) candidate = `${id}${i}`;
  return candidate;
}
