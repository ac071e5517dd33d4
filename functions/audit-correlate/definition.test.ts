import { ParseError } from '@aws-lambda-powertools/parser';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import type { CorrelationRunResult } from '../../shared/audit/correlation-run';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { CorrelationRecordsFailedError } from '../../shared/audit/errors';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditStore } from '../../shared/audit/store-port';
import { scriptAuditTable } from '../../shared/audit/testing/fake-audit-table';
import { CloudTrailLookupError } from '../../shared/cloudtrail/errors';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import type { CloudTrailLookup } from '../../shared/cloudtrail/port';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { FakeClock } from '../../shared/cloudtrail/testing/fake-clock';
import { recordedEvent } from '../../shared/cloudtrail/testing/recorded';
import { MalformedEventError } from '../../shared/core/errors';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { auditCorrelate } from './definition';

/** The handler from its definition, given the ports and the settings (in ms) the tests name. */
const createHandler = (d: {
  store: AuditStore;
  lookup: CloudTrailLookup;
  homeRegion: string;
  deadlineMs: number;
  delayMs: number;
  maxRecords: number;
  now?: () => Date;
}) =>
  auditCorrelate.create(
    { auditStore: d.store, cloudTrail: d.lookup },
    {
      auditTable: 'audit',
      homeRegion: d.homeRegion,
      deadlineMinutes: d.deadlineMs / 60_000,
      delaySeconds: d.delayMs / 1000,
      maxRecords: d.maxRecords,
    },
    { now: d.now ?? (() => new Date()), gate: REPORT_ONLY_GATE },
  ) as (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<CorrelationRunResult>;

const scheduled = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-24T10:10:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/fleetwarden-audit-correlate'],
  detail: {},
};

const ddb = mockClient(DynamoDBClient);
const ct = mockClient(CloudTrailClient);

describe('audit-correlate handler', () => {
  afterEach(() => {
    ddb.reset();
    ct.reset();
  });

  it('correlates pending records in the table from recorded LookupEvents responses', async () => {
    const items = scriptAuditTable(ddb);
    const dynamo = new DynamoDBClient({ region: 'eu-west-1' });
    const sink = new DynamoDbAuditSink('audit', dynamo, { retentionDays: 400, logger: { info: () => {} } });
    await sink.write(
      auditRecord({
        recordId: 'runner-sweep:1',
        time: '2026-11-24T10:00:00.000Z',
        trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
        subject: { runnerName: 'gh-runner-7' },
        calls: [
          {
            service: 'EC2',
            operation: 'DescribeInstances',
            time: '2026-11-24T10:00:00.200Z',
            requestId: 'req-1',
            outcome: 'success',
          },
        ],
      }),
    );
    ct.on(LookupEventsCommand).resolves({
      Events: [
        recordedEvent({
          eventId: 'ct-1',
          eventName: 'DescribeInstances',
          eventTime: '2026-11-24T10:00:00Z',
          requestId: 'req-1',
          readOnly: true,
        }),
      ],
    });
    const clock = new FakeClock(Date.parse('2026-11-24T10:10:00Z'));
    const handler = createHandler({
      store: new DynamoDbAuditStore('audit', dynamo),
      lookup: new RateLimitedLookup(
        new LookupEventsAdapter(() => new CloudTrailClient({ region: 'eu-west-1' })),
        { clock },
      ),
      homeRegion: 'eu-west-1',
      deadlineMs: 6 * 3_600_000,
      delayMs: 300_000,
      maxRecords: 100,
      now: () => clock.date(),
    });
    const result = await handler(scheduled, { getRemainingTimeInMillis: () => 60_000 });
    expect(result).toMatchObject({ examined: 1, resolved: 1, throttled: false });
    const item = items.get('runner-sweep:1');
    expect(item?.correlationPending).toBeUndefined();
    expect(JSON.parse(item?.record?.S ?? '{}').correlation).toMatchObject({
      status: 'resolved',
      calls: [{ requestId: 'req-1', eventId: 'ct-1', eventName: 'DescribeInstances' }],
    });
  });

  it('processes every record despite one failing, logs it, and then fails the invocation', async () => {
    const store = new InMemoryAuditStore();
    for (const [i, id] of ['bad', 'good'].entries())
      await store.sink.write(
        auditRecord({
          recordId: id,
          time: `2026-11-24T10:00:0${i}.000Z`,
          trigger: { source: 'fleetwarden.schedule', id: `run-${id}` },
          calls: [
            {
              service: 'EC2',
              operation: 'DescribeInstances',
              time: `2026-11-24T10:00:0${i}.000Z`,
              requestId: `req-${id}`,
              outcome: 'success',
            },
          ],
        }),
      );
    const handler = createHandler({
      store,
      lookup: {
        lookupPage: async (q) => {
          if (q.start.toISOString() === '2026-11-24T09:58:00.000Z')
            throw new CloudTrailLookupError('InvalidLookupAttributesException');
          return {
            events: [
              {
                eventId: 'ct-good',
                eventName: 'DescribeInstances',
                eventSource: 'ec2.amazonaws.com',
                eventTime: '2026-11-24T10:00:01.000Z',
                requestId: 'req-good',
                actor: 'fleet',
                resources: [],
              },
            ],
          };
        },
      },
      homeRegion: 'eu-west-1',
      deadlineMs: 6 * 3_600_000,
      delayMs: 300_000,
      maxRecords: 100,
      now: () => new Date('2026-11-24T10:10:00Z'),
    });
    const err = await handler(scheduled).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorrelationRecordsFailedError);
    expect((err as Error).message).toContain('bad');
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(store.sink.records.get('good')?.correlation.status).toBe('resolved');
    expect(store.sink.records.get('bad')?.correlation).toMatchObject({
      status: 'pending',
      lastError: expect.stringContaining('InvalidLookupAttributesException'),
    });
  });

  it('rejects an event that is not a scheduled EventBridge event', async () => {
    const handler = createHandler({
      store: {
        timeline: async () => [],
        record: async () => undefined,
        pending: async () => ({ records: [] }),
        updateCorrelation: async () => true,
      },
      lookup: { lookupPage: async () => ({ events: [] }) },
      homeRegion: 'eu-west-1',
      deadlineMs: 1,
      delayMs: 1,
      maxRecords: 1,
    });
    await expect(handler({ hello: 'world' })).rejects.toBeInstanceOf(MalformedEventError);
    // Powertools' parse reads the zod/mini envelope as a Standard Schema: its ParseError, English issues
    const err = await handler({ ...scheduled, id: 7 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'audit-correlate expects a scheduled EventBridge event: Failed to parse schema',
    );
    expect((err as Error).cause).toBeInstanceOf(ParseError);
    expect(((err as Error).cause as Error).cause).toEqual([
      expect.objectContaining({ path: ['id'], message: 'Invalid input: expected string, received number' }),
    ]);
  });

  it('reads its configuration from the environment with defaults', () => {
    expect(readSettings(auditCorrelate.settings, { AUDIT_TABLE_NAME: 't', AWS_REGION: 'eu-west-1' })).toEqual(
      {
        auditTable: 't',
        homeRegion: 'eu-west-1',
        deadlineMinutes: 360,
        delaySeconds: 300,
        maxRecords: 300,
      },
    );
  });
});
