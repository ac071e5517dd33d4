import { ThrottledError } from '../core/errors';
import { CloudTrailLookupError } from './errors';
import type { TrailEvent } from './event';
import {
  type CloudTrailLookup,
  LOOKUP_PAGE_SIZE,
  LOOKUP_WINDOW_MS,
  type LookupPage,
  type LookupQuery,
} from './port';
import type { Clock } from './token-bucket';

interface Stored {
  event: TrailEvent;
  region: string;
  visibleAt: number;
}

/**
 * CloudTrail LookupEvents in memory, with the behaviour that matters to correlation: events become
 * visible only after a delivery delay (~5 min by default, per event overridable), only the last 90
 * days are searchable, one attribute per call, newest first, 50 per page with an opaque NextToken,
 * and more than 2 calls per second per region are throttled.
 */
export class InMemoryCloudTrail implements CloudTrailLookup {
  private readonly events: Stored[] = [];
  private readonly calls = new Map<string, number[]>();
  lookups = 0;

  constructor(
    private readonly clock: Clock,
    private readonly deliveryDelayMs = 5 * 60_000,
  ) {}

  deliver(event: TrailEvent, opts: { region?: string; delayMs?: number } = {}): void {
    this.events.push({
      event,
      region: opts.region ?? event.region ?? 'eu-west-1',
      visibleAt: Date.parse(event.eventTime) + (opts.delayMs ?? this.deliveryDelayMs),
    });
  }

  async lookupPage(query: LookupQuery): Promise<LookupPage> {
    const now = this.clock.now();
    const recent = (this.calls.get(query.region) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= 2) {
      throw new ThrottledError(`CloudTrail LookupEvents throttled in ${query.region}: Rate exceeded`, 1000);
    }
    recent.push(now);
    this.calls.set(query.region, recent);
    this.lookups++;
    if (query.start.getTime() > query.end.getTime()) {
      throw new CloudTrailLookupError('InvalidTimeRangeException: start time is after end time');
    }
    const offset = query.nextToken === undefined ? 0 : Number.parseInt(query.nextToken, 36);
    if (Number.isNaN(offset)) throw new CloudTrailLookupError('InvalidNextTokenException: invalid NextToken');
    const oldest = Math.max(query.start.getTime(), now - LOOKUP_WINDOW_MS);
    const matching = this.events
      .filter((s) => s.region === query.region && s.visibleAt <= now)
      .filter((s) => {
        const t = Date.parse(s.event.eventTime);
        return t >= oldest && t <= query.end.getTime();
      })
      .filter((s) => matches(s.event, query.attribute))
      .map((s) => s.event)
      .sort((a, b) => b.eventTime.localeCompare(a.eventTime));
    const page = matching.slice(offset, offset + LOOKUP_PAGE_SIZE);
    const next = offset + LOOKUP_PAGE_SIZE;
    return next < matching.length ? { events: page, nextToken: next.toString(36) } : { events: page };
  }
}

function matches(e: TrailEvent, attr: LookupQuery['attribute']): boolean {
  switch (attr.key) {
    case 'EventName':
      return e.eventName === attr.value;
    case 'EventId':
      return e.eventId === attr.value;
    case 'EventSource':
      return e.eventSource === attr.value;
    case 'ResourceName':
      return e.resources.some((r) => r.name === attr.value);
    case 'ResourceType':
      return e.resources.some((r) => r.type === attr.value);
    case 'ReadOnly':
      return String(e.readOnly ?? false) === attr.value;
    case 'Username':
      return e.actor.endsWith(`/${attr.value}`) || e.actor === attr.value;
    case 'AccessKeyId':
      return false;
  }
}
