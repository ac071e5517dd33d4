import type { AwsScope } from '../aws/scope';
import type { AuditSink } from './port';

/**
 * The audit sink of a run in one scope: every record it writes carries the scope's `account` and
 * `region` (the run acts there and nowhere else). Without a scope (the hub's own run) the sink is
 * returned as it is: records without them are the hub's.
 */
export function auditSinkInScope(sink: AuditSink, scope: AwsScope | undefined): AuditSink {
  if (!scope) return sink;
  return { write: (record) => sink.write({ ...record, account: scope.account, region: scope.region }) };
}
