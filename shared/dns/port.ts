/**
 * Port: the slice of Route 53 that DNS sync needs. Implementations: `Route53ZoneAdapter` (SDK) and
 * `InMemoryRoute53` (fake). Both throw the errors in ./errors.ts: `Route53BusyError` for Throttling /
 * PriorRequestNotComplete, `InvalidChangeBatchError` (classified) for rejected batches.
 */

/** A simple (non-alias) record set. Names are lowercase with a trailing dot, as Route 53 returns them. */
export interface RecordSet {
  name: string;
  type: string;
  ttl?: number | undefined;
  /** ResourceRecord values in Route 53's wire form (TXT values quoted). Empty for alias records. */
  values: string[];
  /** Alias records are never ours; they are kept only so conflicts are seen. */
  alias?: boolean | undefined;
  /**
   * SetIdentifier of a routing-policy record set (weighted, latency, failover, ...): several sets
   * share a name and type then. Never ours (fleetwarden writes simple record sets only).
   */
  setIdentifier?: string | undefined;
  /** Weight of a weighted record set. */
  weight?: number | undefined;
}

export type ChangeAction = 'CREATE' | 'DELETE' | 'UPSERT';

export interface RecordChange {
  action: ChangeAction;
  record: RecordSet;
}

export interface Route53Port {
  /** Every record set in the zone, reading every page. Throws if any page fails. */
  listRecordSets(zoneId: string): Promise<RecordSet[]>;
  /** One ChangeResourceRecordSets request: all changes apply, or none does. */
  changeRecordSets(
    zoneId: string,
    changes: readonly RecordChange[],
    comment?: string,
  ): Promise<{ changeId: string }>;
}

/** Per-request limits of ChangeResourceRecordSets (UPSERT counts twice). */
export const ROUTE53_MAX_RECORDS_PER_REQUEST = 1000;
export const ROUTE53_MAX_VALUE_CHARS_PER_REQUEST = 32_000;

/** ResourceRecord elements and value characters a change counts for against the request limits. */
export function changeWeight(change: RecordChange): { records: number; chars: number } {
  const factor = change.action === 'UPSERT' ? 2 : 1;
  const chars = change.record.values.reduce((n, v) => n + v.length, 0);
  return { records: change.record.values.length * factor, chars: chars * factor };
}
