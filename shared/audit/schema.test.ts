import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { parseAuditRecord } from './audit-item';
import { auditRecord } from './audit-store.contract';
import { AuditSinkEnvSchema } from './dynamodb-audit-sink';
import { AuditWriteError, InvalidAuditRecordError } from './errors';
import {
  AuditRecordSchema,
  AwsCallSchema,
  CorrelationSchema,
  GitHubCallSchema,
  SubjectSchema,
  TriggerSchema,
} from './schema';

describe('AuditRecordSchema', () => {
  it('round-trips through JSON unchanged (what the table stores)', () => {
    const parsed = AuditRecordSchema.parse(
      auditRecord({
        recordId: 'dns-sync:1',
        correlation: {
          status: 'resolved',
          attempts: 2,
          calls: [
            {
              requestId: 'r',
              eventId: 'e',
              eventName: 'DescribeInstances',
              eventTime: '2026-11-24T10:00:01Z',
            },
          ],
          trigger: {
            eventId: 't',
            eventName: 'TerminateInstances',
            eventTime: '2026-11-24T09:59:00Z',
            actor: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
          },
          resolvedAt: '2026-11-24T10:07:00.000Z',
          lastAttemptAt: '2026-11-24T10:07:00.000Z',
        },
      }),
    );
    expect(AuditRecordSchema.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
  });

  it('accepts a record written before the correlation extension (no eventTime / lastAttemptAt)', () => {
    const v1 = auditRecord({ recordId: 'old', correlation: { status: 'pending', attempts: 0, calls: [] } });
    expect(AuditRecordSchema.parse(v1).correlation.lastAttemptAt).toBeUndefined();
  });

  it.each([
    ['an unknown schema version', { schemaVersion: 2 }],
    ['a subject with nothing in it', { subject: {} }],
    ['a malformed instance id', { subject: { instanceId: 'web-1' } }],
    ['an undotted action', { action: 'delete' }],
    ['an unknown decision', { decision: 'maybe' }],
    ['a time without offset', { time: '2026-11-24 10:00' }],
    [
      'a call without operation',
      { calls: [{ service: 'EC2', time: '2026-11-24T10:00:00Z', outcome: 'success' }] },
    ],
  ])('rejects %s', (_what, bad) => {
    const err = (() => {
      try {
        parseAuditRecord({ ...auditRecord({ recordId: 'bad' }), ...bad });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidAuditRecordError);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).message).toContain('audit record bad rejected');
  });
});

describe('audit schemas in a bundle', () => {
  it('are zod/mini schemas (classic zod adds ~75 KB to every function)', () => {
    for (const s of [
      AuditRecordSchema,
      AwsCallSchema,
      GitHubCallSchema,
      TriggerSchema,
      SubjectSchema,
      CorrelationSchema,
    ])
      expect(s).toBeInstanceOf(z.ZodMiniType);
    expect(AuditSinkEnvSchema).toBeInstanceOf(z.ZodMiniObject);
  });
});
