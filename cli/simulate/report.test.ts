import { describe, expect, it } from 'vitest';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { SUBJECT, sampleRecords } from '../timeline/html/testing/sample';
import { html, type Summary } from './report';

const summary: Summary = {
  seed: 42,
  options: {},
  simulatedSeconds: 6300,
  convergenceSeconds: 40,
  wallMs: 1234,
  counts: { auditRecords: 9 },
  apiCalls: {},
  invocations: {},
  invocationErrors: {},
  deadLettered: { 'runner-drain': 1 },
  delivery: {},
  notSimulated: [],
  approvals: { proposals: 0, byStatus: {}, decisions: 0, notified: 0 },
  invariants: [{ name: 'no ghost runner', ok: true, details: [] }],
};

const fleetLevel = AuditRecordSchema.parse({
  ...sampleRecords()[0],
  recordId: 'runner-sweep:fleet-0001',
  function: 'runner-sweep',
  subject: { runnerName: 'fleet:runners' },
  action: 'runner.sweep',
  reason: '8 runners, 11 instances: <none> deregistered',
  details: {},
});

const deadLetters = [
  {
    at: Date.parse('2026-11-24T09:50:00Z'),
    fn: 'runner-drain',
    messageId: 'msg-77',
    tries: 3,
    body: `{"detail":{"EC2InstanceId":"${SUBJECT}"}}`,
  },
  { at: Date.parse('2026-11-24T09:51:00Z'), fn: 'dns-sync', messageId: 'msg-78', tries: 3, body: '{}' },
];

describe('simulator report (index.html)', () => {
  const page = html(summary, [...sampleRecords(), fleetLevel], deadLetters);

  it('keeps the verdict and the figures of the run', () => {
    expect(page).toContain('All invariants hold');
    expect(page).toContain('no ghost runner');
    expect(page).toContain('seed 42');
  });

  it('draws the swimlanes of every subject with the same renderer as `timeline --html`', () => {
    expect(page).toMatch(/<section class="subject" id="s-\d+"><h2>i-0abc1234567890def<\/h2>/);
    expect(page).toMatch(/<section class="subject" id="s-\d+"><h2>fleet:runners<\/h2>/);
    for (const r of [...sampleRecords(), fleetLevel]) expect(page).toContain(r.recordId);
    expect(page).toContain('0f5e2c61-run-4c1a-9e2f-launch000001');
    expect(page).toContain('>Lifecycle hook<');
  });

  it('shows dead-lettered messages under the subject they are about, the rest on their own', () => {
    const subject = page.slice(page.indexOf('<h2>i-0abc1234567890def</h2>'));
    expect(subject.slice(0, subject.indexOf('</section>'))).toContain(
      'runner-drain message dead-lettered after 3 tries',
    );
    expect(page).toMatch(/<h2>messages about no known subject<\/h2>[\s\S]*msg-78/);
  });

  it('dates in ISO with zone, escapes record text, and fetches nothing', () => {
    expect(page).toContain('2026-11-24T08:00:41Z');
    expect(page).toContain('&lt;none&gt; deregistered');
    expect(page).not.toMatch(/<script|<link|src=/);
  });
});
