import { InvalidChangeBatchError, Route53BusyError, Route53Error } from './errors';
import {
  changeWeight,
  type ListPage,
  type ListStart,
  type RecordChange,
  type RecordSet,
  ROUTE53_LIST_PAGE_MAX,
  ROUTE53_MAX_RECORDS_PER_REQUEST,
  ROUTE53_MAX_VALUE_CHARS_PER_REQUEST,
  type Route53Port,
} from './port';
import { route53OrderKey, ZoneRecords } from './zone-records';

export type { ListPage, ListStart } from './port';
export { ROUTE53_LIST_PAGE_MAX } from './port';

/**
 * In-memory Route 53 with the semantics the real service enforces: a batch is validated change by
 * change against a working copy and committed only if every change succeeds (all-or-nothing);
 * DELETE must match TTL and values exactly, CREATE of an existing set fails, with Route 53's own
 * InvalidChangeBatch message texts; per-request limits (1,000 ResourceRecord elements, 32,000
 * value characters, UPSERT counted twice); Throttling ("Rate exceeded") and PriorRequestNotComplete
 * can be injected; listings are paged (300 per page) in Route 53's name order, and a page can end
 * inside a group of routing-policy sets sharing a name and type (the next page then starts at
 * NextRecordIdentifier; without StartRecordIdentifier the group is listed again from its start).
 */
export class InMemoryRoute53 implements Route53Port {
  private readonly zones = new Map<string, ZoneRecords>();
  private readonly injected: { code: 'Throttling' | 'PriorRequestNotComplete'; op: 'any' | 'change' }[] = [];
  private changeNo = 0;
  /** Every accepted or rejected ChangeResourceRecordSets request, in order. */
  readonly changeRequests: { zoneId: string; changes: RecordChange[]; outcome: 'applied' | 'rejected' }[] =
    [];
  listRequests = 0;

  addZone(zoneId: string, zoneName: string, records: readonly RecordSet[] = []): this {
    this.zones.set(zoneId, new ZoneRecords(zoneName, records));
    return this;
  }

  /** Write records directly (someone else's records, or drift made by a human). */
  seed(zoneId: string, records: readonly RecordSet[]): void {
    const zone = this.zone(zoneId);
    for (const r of records) {
      const existing = zone.get(r.name, r.type, r.setIdentifier);
      if (existing) zone.apply({ action: 'DELETE', record: existing });
      const problem = zone.apply({ action: 'CREATE', record: r });
      if (problem) throw new InvalidChangeBatchError([problem]);
    }
  }

  /** Remove a record directly (a human deleting it in the console). */
  remove(zoneId: string, name: string, type: string): void {
    const zone = this.zone(zoneId);
    const existing = zone.get(name, type);
    if (existing) zone.apply({ action: 'DELETE', record: existing });
  }

  records(zoneId: string): RecordSet[] {
    return this.zone(zoneId).all();
  }

  /** The next `count` requests fail with `code` (PriorRequestNotComplete only hits change requests). */
  failNext(code: 'Throttling' | 'PriorRequestNotComplete', count = 1): void {
    for (let i = 0; i < count; i++)
      this.injected.push({ code, op: code === 'Throttling' ? 'any' : 'change' });
  }

  private busy(op: 'list' | 'change'): void {
    const next = this.injected[0];
    if (!next || (next.op === 'change' && op !== 'change')) return;
    this.injected.shift();
    throw new Route53BusyError(
      next.code,
      next.code === 'Throttling'
        ? 'Rate exceeded'
        : 'The request was rejected because Route 53 was still processing a prior request.',
    );
  }

  private zone(zoneId: string): ZoneRecords {
    const zone = this.zones.get(zoneId);
    if (!zone) throw new Route53Error(`NoSuchHostedZone: No hosted zone found with ID: ${zoneId}`);
    return zone;
  }

  /** One ListResourceRecordSets page starting at (name, type, identifier), in Route 53's order. */
  async listPage(zoneId: string, start?: ListStart, maxItems = ROUTE53_LIST_PAGE_MAX): Promise<ListPage> {
    this.listRequests++;
    this.busy('list');
    const zone = this.zone(zoneId);
    const limit = Math.min(Math.max(1, maxItems), ROUTE53_LIST_PAGE_MAX);
    const startKey = start ? route53OrderKey(start.name, start.type, start.identifier) : undefined;
    const { records, after } = zone.page(startKey, limit);
    if (!after) return { records };
    return {
      records,
      next: {
        name: after.name,
        type: after.type,
        ...(after.setIdentifier !== undefined ? { identifier: after.setIdentifier } : {}),
      },
    };
  }

  async listRecordSets(zoneId: string): Promise<RecordSet[]> {
    const out: RecordSet[] = [];
    let start: ListPage['next'];
    do {
      const page = await this.listPage(zoneId, start);
      out.push(...page.records);
      start = page.next;
    } while (start);
    return out;
  }

  async changeRecordSets(zoneId: string, changes: readonly RecordChange[]): Promise<{ changeId: string }> {
    this.busy('change');
    const zone = this.zone(zoneId);
    const reject = (messages: string[]) => {
      this.changeRequests.push({ zoneId, changes: [...changes], outcome: 'rejected' });
      return new InvalidChangeBatchError(messages);
    };
    if (changes.length === 0)
      throw reject(['The request contains an invalid set of changes for a resource record set']);
    const weight = changes
      .map(changeWeight)
      .reduce((a, b) => ({ records: a.records + b.records, chars: a.chars + b.chars }));
    if (weight.records > ROUTE53_MAX_RECORDS_PER_REQUEST) {
      throw reject([`Number of records limit of ${ROUTE53_MAX_RECORDS_PER_REQUEST} exceeded.`]);
    }
    if (weight.chars > ROUTE53_MAX_VALUE_CHARS_PER_REQUEST) {
      throw reject([`Number of characters limit of ${ROUTE53_MAX_VALUE_CHARS_PER_REQUEST} exceeded.`]);
    }
    const problems = zone.applyAll(changes);
    if (problems.length > 0) throw reject(problems);
    this.changeRequests.push({ zoneId, changes: [...changes], outcome: 'applied' });
    return { changeId: `/change/C${String(++this.changeNo).padStart(12, '0')}` };
  }
}
