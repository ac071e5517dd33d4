import {
  CloudTrailClient,
  LookupEventsCommand,
  type LookupEventsCommandOutput,
} from '@aws-sdk/client-cloudtrail';
import { instrumentClient } from '../aws/call-recorder';
import { ThrottledError } from '../core/errors';
import { CloudTrailLookupError } from './errors';
import { MalformedTrailEventError, parseLookupEvent, type TrailEvent } from './event';
import {
  type CloudTrailLookup,
  LOOKUP_PAGE_SIZE,
  type LookupPage,
  type LookupQuery,
  type SkippedEvent,
} from './port';

const clients = new Map<string, CloudTrailClient>();

/**
 * One instrumented CloudTrail client per region (LookupEvents is regional). SDK retries are off
 * (maxAttempts 1): a throttled call must go back through RateLimitedLookup, which waits for a token
 * of the 2 req/s budget before retrying; SDK-level retries would spend that budget behind its back.
 */
export function cloudTrailClientFor(region: string): CloudTrailClient {
  let client = clients.get(region);
  if (!client) {
    client = instrumentClient(new CloudTrailClient({ region, maxAttempts: 1 }));
    clients.set(region, client);
  }
  return client;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/** CloudTrail LookupEvents behind the CloudTrailLookup port. Wrap it in RateLimitedLookup. */
export class LookupEventsAdapter implements CloudTrailLookup {
  constructor(
    /** The client for a query's region, and its account when it names one (a spoke's trail role). */
    private readonly clientFor: (region: string, account?: string) => CloudTrailClient = cloudTrailClientFor,
  ) {}

  async lookupPage(query: LookupQuery): Promise<LookupPage> {
    let output: LookupEventsCommandOutput;
    try {
      output = await this.clientFor(query.region, query.account).send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: query.attribute.key, AttributeValue: query.attribute.value }],
          StartTime: query.start,
          EndTime: query.end,
          MaxResults: LOOKUP_PAGE_SIZE,
          ...(query.nextToken ? { NextToken: query.nextToken } : {}),
        }),
      );
    } catch (err) {
      const name = (err as Error).name;
      if (THROTTLING.has(name)) {
        throw new ThrottledError(
          `CloudTrail LookupEvents throttled in ${query.region}: ${(err as Error).message}`,
          1000,
          {
            cause: err,
          },
        );
      }
      throw new CloudTrailLookupError(
        `LookupEvents ${query.attribute.key}=${query.attribute.value} in ${query.region} failed: ${name}: ${((err as Error).message ?? '').split('\n')[0]}`,
        { cause: err },
      );
    }
    const events: TrailEvent[] = [];
    const skipped: SkippedEvent[] = [];
    for (const raw of output.Events ?? []) {
      try {
        events.push(parseLookupEvent(raw));
      } catch (err) {
        if (!(err instanceof MalformedTrailEventError)) throw err;
        skipped.push({ eventId: raw.EventId ?? '<no id>', error: err });
      }
    }
    return {
      events,
      ...(output.NextToken ? { nextToken: output.NextToken } : {}),
      ...(skipped.length > 0 ? { skipped } : {}),
    };
  }
}
