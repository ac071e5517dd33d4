import { type ApplyPolicy, withBackoff } from './backoff';
import { DNS_SYNC_BATCHING } from './batching';
import { normalizeName, recordNameOfMarker } from './names';
import {
  type ListPage,
  type ListStart,
  type RecordSet,
  ROUTE53_LIST_PAGE_MAX,
  type Route53Port,
} from './port';
import { route53NameKey } from './zone-records';

/** Route 53's documented request rate per account (all its APIs together). */
export const ROUTE53_ACCOUNT_RATE = 5;

/** The fleet's Route 53 callers that can run at once: dns-sync's concurrent invocations and reconcile. */
export const ROUTE53_CALLERS = DNS_SYNC_BATCHING.maxConcurrency + 1;

/** One invocation's pace: its share of the account's rate, sleeping through the pacing port. */
export function invocationPace(sleep: (ms: number) => Promise<void>): Route53Pace {
  return new Route53Pace(ROUTE53_ACCOUNT_RATE / ROUTE53_CALLERS, Date.now, sleep);
}

/**
 * Keeps one caller's Route 53 requests at `ratePerSecond` (its share of the account's 5/s): each
 * request waits until `1 / rate` after the previous one. Sleeps through the pacing port, so tests,
 * the simulator and the benchmarks wait on their own clocks.
 */
export class Route53Pace {
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(): Promise<void> {
    const t = this.now();
    const at = Math.max(t, this.nextAt);
    this.nextAt = at + 1000 / this.ratePerSecond;
    if (at > t) await this.sleep(at - t);
  }
}

export interface ReadOptions {
  policy: ApplyPolicy;
  /** Absent: no pacing beyond the backoff (tests). */
  pace?: Route53Pace | undefined;
}

/** One page, paced, retried from the same start when Route 53 is busy (never from page 1). */
async function page(
  port: Route53Port,
  zoneId: string,
  start: ListStart | undefined,
  maxItems: number,
  o: ReadOptions,
): Promise<ListPage> {
  const what = `ListResourceRecordSets ${zoneId}${start ? ` from ${start.name}` : ''}`;
  const { value } = await withBackoff(what, o.policy, async () => {
    await o.pace?.take();
    return port.listPage(zoneId, start, maxItems);
  });
  return value;
}

/** Every record set of the zone, page after page (a throttled page is retried, not the listing). */
export async function readZone(port: Route53Port, zoneId: string, o: ReadOptions): Promise<RecordSet[]> {
  const out: RecordSet[] = [];
  let start: ListStart | undefined;
  const seen = new Set<string>();
  do {
    const p = await page(port, zoneId, start, ROUTE53_LIST_PAGE_MAX, o);
    out.push(...p.records);
    start = p.next;
    const at = start && `${start.name}|${start.type}|${start.identifier ?? ''}`;
    if (at !== undefined && seen.has(at)) throw new Error(`${zoneId}: page at ${at} listed twice`);
    if (at !== undefined) seen.add(at);
  } while (start);
  return out;
}

/**
 * MaxItems of a read: the most Route 53 returns (300). Route 53 limits requests, not record sets, so
 * a full page costs no more of the 5 req/s than a small one, and it covers every touched name up to
 * the 300 record sets after the start: a burst of new adjacent names, or a whole small zone, is one
 * call. (A small MaxItems would only save bytes.)
 */
const ITEMS_PER_READ = ROUTE53_LIST_PAGE_MAX;

/**
 * The record sets at `names` (and at any other name a page happened to cover in full), in as few
 * ListResourceRecordSets calls as Route 53's order allows: names are read in that order (labels
 * reversed), each call starts at the first name not yet covered (StartRecordName), and a page
 * covers every name before its NextRecordName. A name a page ends inside is continued from
 * NextRecordName/Type/Identifier. A marker is returned only with the name it guards read in full
 * (the planner must never see a marker without its record). Cost: at most one call per touched
 * name (plus pages inside a name holding more than a page), never the zone's size.
 */
export async function readNames(
  port: Route53Port,
  zoneId: string,
  names: readonly string[],
  o: ReadOptions,
): Promise<RecordSet[]> {
  const byKey = new Map(names.map((n) => [route53NameKey(n), normalizeName(n)]));
  const pending = [...byKey.keys()].sort();
  const covered: [string, string | undefined][] = [];
  const out: RecordSet[] = [];
  let i = 0;
  while (i < pending.length) {
    const from = pending[i] as string;
    let start: ListStart = { name: byKey.get(from) as string };
    let kept: RecordSet[] = [];
    for (;;) {
      const p = await page(port, zoneId, start, ITEMS_PER_READ, o);
      kept.push(...p.records);
      const upTo = p.next ? route53NameKey(p.next.name) : undefined;
      while (i < pending.length && (upTo === undefined || (pending[i] as string) < upTo)) i++;
      if (!p.next || pending[i] !== upTo) {
        // the name the page ended inside is not kept: it was not read in full
        kept = kept.filter((r) => upTo === undefined || route53NameKey(r.name) < upTo);
        covered.push([from, upTo]);
        break;
      }
      start = p.next;
    }
    out.push(...kept);
  }
  const full = (name: string) => {
    const k = route53NameKey(name);
    return covered.some(([f, u]) => f <= k && (u === undefined || k < u));
  };
  return out.filter((r) => {
    const guarded = recordNameOfMarker(r.name);
    return guarded === undefined || full(guarded);
  });
}
