import { describe, expect, it } from 'vitest';
import type { AuditRecordInput } from '../shared/audit/schema';
import { AUDIT_TABLE } from '../shared/audit/table-design';
import {
  alreadyExecutedExpected,
  correlatedRecordExpected,
  decisionWrittenExpected,
  emptyQueueExpected,
  executedExpected,
  proposedExpected,
} from './expectations';
import { passes } from './fixtures/provider-matcher';

const NAME = 'integ-node.fleetwarden-integ.internal';

function record(overrides: Partial<AuditRecordInput>): AuditRecordInput {
  return {
    schemaVersion: 1,
    recordId: 'r-1',
    time: '2026-11-26T10:00:00.000Z',
    function: 'dns-sync',
    trigger: { source: 'aws.ec2', id: 'evt-1' },
    subject: { instanceId: 'i-0123456789abcdef0', recordName: NAME },
    action: 'dns.delete',
    decision: 'acted',
    reason: 'instance terminated',
    mode: 'live',
    calls: [
      {
        service: 'Route53',
        operation: 'ChangeResourceRecordSets',
        time: '2026-11-26T10:00:00.000Z',
        requestId: 'req-r53',
        outcome: 'success',
      },
    ],
    githubCalls: [],
    details: {},
    correlation: {
      status: 'resolved',
      attempts: 1,
      calls: [{ requestId: 'req-r53', eventId: 'b5f3c2e1-evt', eventName: 'ChangeResourceRecordSets' }],
    },
    ...overrides,
  };
}
const answer = (...records: AuditRecordInput[]) => ({
  Count: records.length,
  Items: records.map((r) => ({
    recordId: { S: r.recordId },
    [AUDIT_TABLE.recordAttribute]: { S: JSON.stringify(r) },
  })),
});

describe('integ step 4: the audit record of the DNS change, confirmed by CloudTrail', () => {
  it('passes for a dns-sync record whose ChangeResourceRecordSets call CloudTrail confirmed', () => {
    expect(passes(correlatedRecordExpected(), answer(record({})))).toEqual({ ok: true, why: '' });
  });

  it('fails for a resolved record that made no Route 53 change (only reads)', () => {
    const readsOnly = record({
      calls: [
        {
          service: 'EC2',
          operation: 'DescribeInstances',
          time: '2026-11-26T10:00:00.000Z',
          requestId: 'req-ec2',
          outcome: 'success',
        },
      ],
      correlation: {
        status: 'resolved',
        attempts: 1,
        calls: [{ requestId: 'req-ec2', eventId: 'c1-evt', eventName: 'DescribeInstances' }],
      },
    });
    expect(passes(correlatedRecordExpected(), answer(readsOnly)).ok).toBe(false);
  });

  it('fails for a ChangeResourceRecordSets CloudTrail has not confirmed (no eventId)', () => {
    const unconfirmed = record({
      correlation: {
        status: 'resolved',
        attempts: 1,
        calls: [{ requestId: 'req-r53', eventId: '', eventName: 'ChangeResourceRecordSets' }],
      },
    });
    expect(passes(correlatedRecordExpected(), answer(unconfirmed)).ok).toBe(false);
  });

  it('fails when only the 15-min dns-reconcile repair wrote the record (dns-sync missed the event)', () => {
    expect(passes(correlatedRecordExpected(), answer(record({ function: 'dns-reconcile' }))).ok).toBe(false);
  });

  it('fails while the record is still pending correlation', () => {
    const pending = record({ correlation: { status: 'pending', attempts: 0, calls: [] } });
    expect(passes(correlatedRecordExpected(), answer(pending)).ok).toBe(false);
  });
});

describe("integ step 6: the fleet's dead-letter queues are empty at the end", () => {
  it('passes for an empty queue and fails for one holding or receiving a message', () => {
    const attrs = (visible: string, inFlight: string) => ({
      Attributes: { ApproximateNumberOfMessages: visible, ApproximateNumberOfMessagesNotVisible: inFlight },
    });
    expect(passes(emptyQueueExpected(), attrs('0', '0')).ok).toBe(true);
    expect(passes(emptyQueueExpected(), attrs('1', '0')).ok).toBe(false);
    expect(passes(emptyQueueExpected(), attrs('0', '2')).ok).toBe(false);
  });
});

describe('integ step 7: a proposal the assertions approve and see executed', () => {
  // Lambda invoke answers as the provider decodes them (Payload: the handler's JSON, parsed)
  const run = (payload: Record<string, unknown>) => ({ StatusCode: 200, Payload: payload });
  const reported = {
    decision: 'reported',
    reason:
      'needs approval to retire the probe subject: … (proposal fwp-abcdefghijkl waits for 1 approval(s) …)',
    details: { proposalId: 'fwp-abcdefghijkl' },
  };
  const acted = {
    decision: 'acted',
    reason: 'the integration test retires integ-probe',
    details: {
      approval: {
        proposalId: 'fwp-abcdefghijkl',
        by: ['arn:aws:sts::123456789012:assumed-role/fleetwarden-integ-approver/Approver'],
        decisions: [
          { approver: 'arn:aws:sts::123456789012:assumed-role/fleetwarden-integ-approver/Approver' },
        ],
      },
    },
  };

  it('the first run proposes: reported, naming its proposal', () => {
    expect(passes(proposedExpected(), run(reported))).toEqual({ ok: true, why: '' });
    expect(
      passes(
        proposedExpected(),
        run({ decision: 'reported', reason: 'no approval flow is deployed', details: {} }),
      ).ok,
    ).toBe(false);
    expect(passes(proposedExpected(), run(acted)).ok).toBe(false);
  });

  it('the approver writes its decision (a retry finds it written)', () => {
    expect(
      passes(decisionWrittenExpected(), run({ proposalId: 'fwp-abcdefghijkl', written: 'written' })).ok,
    ).toBe(true);
    expect(
      passes(decisionWrittenExpected(), run({ proposalId: 'fwp-abcdefghijkl', written: 'exists' })).ok,
    ).toBe(true);
    expect(
      passes(decisionWrittenExpected(), run({ errorMessage: 'no open proposal of approval-probe' })).ok,
    ).toBe(false);
  });

  it('the next run acts, its record naming the proposal and who approved it', () => {
    expect(passes(executedExpected(), run(acted)).ok).toBe(true);
    expect(passes(executedExpected(), run(reported)).ok).toBe(false);
    expect(passes(executedExpected(), run({ ...acted, details: {} })).ok).toBe(false);
  });

  it('the run after that does nothing: the proposal was executed once', () => {
    const again = {
      decision: 'reported',
      reason:
        'needs approval to retire the probe subject: … (proposal fwp-abcdefghijkl already executed by record r-1 at …)',
      details: { proposalId: 'fwp-abcdefghijkl' },
    };
    expect(passes(alreadyExecutedExpected(), run(again)).ok).toBe(true);
    expect(passes(alreadyExecutedExpected(), run(acted)).ok).toBe(false);
  });
});
