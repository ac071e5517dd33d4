/**
 * Name of the fleet's terminate lifecycle hook on each runner group: runner-drain acts only on
 * actions of this hook, RunnerRemediation creates it, `fleetwarden doctor` looks for it.
 */
export const LIFECYCLE_HOOK_NAME = 'fleetwarden-drain';
