import { AsyncLocalStorage } from 'node:async_hooks';
import type { AwsScope } from './scope';

/**
 * The spoke a hub function is acting in right now (set by the kernel's scope routing around each
 * spoke's handler; unset for the hub's own scope and without spokes). Audit record ids include it,
 * so the same step run in two accounts (a schedule tick runs in every scope) is two records, never
 * one overwriting the other, while the hub's records keep the ids they had before spokes.
 */
const spoke = new AsyncLocalStorage<AwsScope>();

/** Run `work` as acting in `scope` when it is a spoke; as the hub otherwise. */
export function inSpoke<T>(scope: AwsScope | undefined, work: () => T): T {
  return scope ? spoke.run(scope, work) : spoke.exit(work);
}

/** The spoke being acted in, if any. */
export const currentSpoke = (): AwsScope | undefined => spoke.getStore();
