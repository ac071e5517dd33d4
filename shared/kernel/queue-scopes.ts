import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AuditSink } from '../audit/port';
import { auditSinkInScope } from '../audit/scoped-sink';
import type { AwsScope, Topology } from '../aws/scope';
import type { Handler } from './remediation';
import { batchByScope, type ScopeRouting, scopeHandlers } from './scope-routing';

/**
 * `routeByScope` for a queue-fed entry that builds its handler itself (runner-drain's lazy wiring):
 * `create` runs once per scope with `portsFor(scope)` and an audit sink that fills the scope's
 * account/region; each SQS batch is split by scope (`batchByScope`, unknown scopes refused into
 * `audit`, the hub's). Queue batches only (its schedule comes through its queue too): its own
 * module, so the entry bundles none of routeByScope's schedule and direct-event routes.
 */
export function createInScopes<P>(o: {
  name: string;
  topology: Topology | undefined;
  audit: AuditSink;
  mode: 'dry-run' | 'live';
  portsFor: (scope: AwsScope | undefined) => P;
  create: (ports: P & { audit: AuditSink }) => Handler<SQSEvent, SQSBatchResponse>;
}): Handler<SQSEvent, SQSBatchResponse> {
  const routing: ScopeRouting<SQSEvent, SQSBatchResponse> = {
    ...o,
    handlerFor: (scope) => o.create({ ...o.portsFor(scope), audit: auditSinkInScope(o.audit, scope) }),
  };
  const handlerOf = scopeHandlers(routing);
  return async (event, context) =>
    o.topology
      ? batchByScope(routing, handlerOf, event, context)
      : (await handlerOf(undefined))(event, context);
}
