/**
 * What counts as a read and what as a mutation, for the IAM guardrail and FleetFunction.allow().
 * An action is read-only when its verb starts with one of these (IAM's own access-level
 * classification uses the same verbs for List/Read). Anything else, including wildcards, mutates.
 */
const READ_ONLY_VERBS = [
  'Describe',
  'List',
  'Get',
  'BatchGet',
  'Lookup',
  'Query',
  'Scan',
  'Search',
  'Head',
  'View',
];

/**
 * Mutating actions that AWS documents as supporting neither resource-level permissions nor any
 * condition key, so "*" without a condition is the only way to grant them. Each needs its reason.
 */
export const UNSCOPABLE_MUTATING_ACTIONS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments':
    'X-Ray trace ingestion supports no resource ARN or condition key (AWS X-Ray IAM reference)',
  'xray:PutTelemetryRecords':
    'X-Ray telemetry ingestion supports no resource ARN or condition key (AWS X-Ray IAM reference)',
};

export function isMutatingAction(action: string): boolean {
  const [, verb = ''] = action.split(':');
  if (verb === '' || verb.includes('*')) return true;
  return !READ_ONLY_VERBS.some((prefix) => verb.startsWith(prefix));
}

/** Mutating actions in `actions` that may not be granted on "*" without a condition. */
export function unscopedMutations(actions: readonly string[]): string[] {
  return actions.filter((a) => isMutatingAction(a) && !(a in UNSCOPABLE_MUTATING_ACTIONS));
}
