import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AwsScope, sameScope, scopeOf, type Topology } from '../aws/scope';
import { withMessageSpokes } from '../aws/scope-context';
import type { Handler } from './remediation';
import { type BatchRouter, parseBody, refuse, type ScopeRouting } from './scope-routing';

/**
 * The whole batch to the hub's handler (`ScopeRouting.batches`): unknown scopes refused first;
 * every other message keeps its scope (a spoke's, or undefined for the hub's) for the handler to
 * act in. Its own module: only an entry whose definition asks for it (`scopeBatches: 'whole'`)
 * bundles it.
 */
export const wholeBatch: BatchRouter = async <E, R>(
  routing: ScopeRouting<E, R>,
  handlerOf: (scope: AwsScope | undefined) => Promise<Handler<E, R>>,
  event: SQSEvent,
  context: Context | undefined,
): Promise<R> => {
  const topology = routing.topology as Topology;
  const spokes = new Map<string, AwsScope | undefined>();
  const known: SQSRecord[] = [];
  for (const record of event.Records) {
    const body = parseBody(record.body);
    const v = scopeOf(body, topology);
    if (v.kind === 'unknown') {
      await refuse(routing, body, v, record);
      continue;
    }
    const scope = v.scope as AwsScope;
    spokes.set(record.messageId, sameScope(scope, topology.hub) ? undefined : scope);
    known.push(record);
  }
  if (known.length === 0) return { batchItemFailures: [] } as R;
  const handler = await handlerOf(topology.hub);
  return withMessageSpokes(spokes, () => handler({ ...event, Records: known } as E, context));
};
