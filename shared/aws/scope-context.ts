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

/**
 * Per SQS message, the spoke its event belongs to (undefined: the hub), set by the kernel's scope
 * routing when it hands a remediation one whole batch across scopes (`batches: wholeBatch`, shared/kernel/whole-batch.ts).
 */
const messageSpokes = new AsyncLocalStorage<ReadonlyMap<string, AwsScope | undefined>>();

/** Run `work` with each message's scope known (`inMessageSpoke`, `byMessageSpoke`). */
export function withMessageSpokes<T>(spokes: ReadonlyMap<string, AwsScope | undefined>, work: () => T): T {
  return messageSpokes.run(spokes, work);
}

/** Run `work` as acting in the scope of message `messageId`; unchanged outside a whole batch. */
export function inMessageSpoke<T>(messageId: string, work: () => T): T {
  const spokes = messageSpokes.getStore();
  return spokes ? inSpoke(spokes.get(messageId), work) : work();
}

/**
 * The records grouped by the scope their events belong to (run each group `inSpoke(group.spoke)`);
 * outside a whole batch, one group in the scope acted in now.
 */
export function byMessageSpoke<R extends { messageId: string }>(
  records: readonly R[],
): { spoke: AwsScope | undefined; records: R[] }[] {
  const spokes = messageSpokes.getStore();
  if (!spokes) return [{ spoke: currentSpoke(), records: [...records] }];
  const groups = new Map<AwsScope | undefined, R[]>();
  for (const r of records) {
    const spoke = spokes.get(r.messageId);
    groups.set(spoke, [...(groups.get(spoke) ?? []), r]);
  }
  return [...groups].map(([spoke, rs]) => ({ spoke, records: rs }));
}
