import type { TrailEvent } from './event';

/** LookupEvents accepts exactly one of these per call. */
export type LookupAttributeKey =
  | 'EventId'
  | 'EventName'
  | 'ReadOnly'
  | 'Username'
  | 'ResourceType'
  | 'ResourceName'
  | 'EventSource'
  | 'AccessKeyId';

export interface LookupQuery {
  /** CloudTrail is regional; global services (Route 53, IAM, STS) log to us-east-1. */
  region: string;
  /**
   * The account whose trail to read (a spoke's, through its read-only trail role: README "Hub and
   * spokes"). Absent: the function's own account.
   */
  account?: string;
  attribute: { key: LookupAttributeKey; value: string };
  start: Date;
  end: Date;
  nextToken?: string;
}

export interface LookupPage {
  events: TrailEvent[];
  nextToken?: string;
  /**
   * Entries of this page that could not be read (CloudTrailEvent JSON missing or not what CloudTrail
   * documents). One bad event never hides the rest of its page; callers log these.
   */
  skipped?: SkippedEvent[];
}

export interface SkippedEvent {
  eventId: string;
  error: Error;
}

/**
 * One LookupEvents page (at most 50 events, newest first). Implementations throw ThrottledError
 * when CloudTrail says "slow down" (2 requests/s per account per region).
 */
export interface CloudTrailLookup {
  lookupPage(query: LookupQuery): Promise<LookupPage>;
}

/** LookupEvents only sees the last 90 days. */
export const LOOKUP_WINDOW_MS = 90 * 86_400_000;
export const LOOKUP_PAGE_SIZE = 50;

/** All events of a query, following NextToken up to maxPages (a busy account can have many). */
export async function lookupAll(
  port: CloudTrailLookup,
  query: Omit<LookupQuery, 'nextToken'>,
  opts: { maxPages?: number; onPage?: (n: number) => void } = {},
): Promise<{ events: TrailEvent[]; complete: boolean; skipped: SkippedEvent[] }> {
  const events: TrailEvent[] = [];
  const skipped: SkippedEvent[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await port.lookupPage({ ...query, ...(nextToken ? { nextToken } : {}) });
    events.push(...page.events);
    skipped.push(...(page.skipped ?? []));
    nextToken = page.nextToken;
    pages++;
    opts.onPage?.(pages);
  } while (nextToken && pages < (opts.maxPages ?? 20));
  return { events, complete: nextToken === undefined, skipped };
}

/** Region whose trail holds a service's events: global services log in us-east-1. */
export function trailRegionFor(service: string, homeRegion: string): string {
  return ['Route53', 'IAM', 'STS', 'CloudFront', 'Organizations'].includes(service)
    ? 'us-east-1'
    : homeRegion;
}
