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

/** Where a ListResourceRecordSets page starts (StartRecordName/Type/Identifier). */
export interface ListStart {
  name: string;
  /** Only with a name (Route 53 answers InvalidInput to a type without a name). */
  type?: string | undefined;
  /** Inside a group of routing-policy sets sharing the name and type (NextRecordIdentifier). */
  identifier?: string | undefined;
}

/** One ListResourceRecordSets page; `next` (NextRecordName/Type/Identifier) when it is truncated. */
export interface ListPage {
  records: RecordSet[];
  next?: { name: string; type: string; identifier?: string | undefined } | undefined;
}

/** Most record sets ListResourceRecordSets returns per page (MaxItems' ceiling). */
export const ROUTE53_LIST_PAGE_MAX = 300;

export interface Route53Port {
  /** Every record set in the zone, reading every page. Throws if any page fails. */
  listRecordSets(zoneId: string): Promise<RecordSet[]>;
  /**
   * One ListResourceRecordSets call: up to `maxItems` (1-300) record sets from `start` on, in Route
   * 53's order (names compared with their labels reversed and a trailing dot, com.example.www., in
   * ASCII; then type; then set identifier). Without `start`, from the zone's first record set.
   */
  listPage(zoneId: string, start?: ListStart, maxItems?: number): Promise<ListPage>;
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
