import { describe, expect, it } from 'vitest';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { SUBJECT, sampleRecords } from '../timeline/html/testing/sample';
import { ghostInvariant, html, type Summary } from './report';
import type { Engine } from './scenario';

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

describe('no ghost runner (invariant)', () => {
  const FLEET = 'fleetwarden-fleet:sim-fleet';
  const runner = (id: number, instanceId: string) => ({
    id,
    name: `ci-${instanceId}`,
    labels: ['self-hosted', `fleetwarden-instance:${instanceId}`, FLEET],
  });
  const sweepRun = (time: string, decision: string, details: Record<string, unknown>) =>
    AuditRecordSchema.parse({ ...fleetLevel, recordId: `runner-sweep:${time}`, time, decision, details });
  const engine = (records: ReturnType<typeof sweepRun>[]) =>
    ({
      fleetLabel: FLEET,
      routing: { functions: new Map() },
      truth: new Map([
        ['i-a', { id: 'i-a', state: 'terminated' }],
        ['i-b', { id: 'i-b', state: 'terminated' }],
      ]),
      world: {
        registry: { snapshot: () => [runner(3, 'i-a'), runner(4, 'i-b')] },
        audit: { all: () => records },
      },
    }) as unknown as Engine;
  const breakerHeld = (ids: number[], fleetSize = 5) => ({
    fleetSize,
    refused: true,
    refusedBy: 'breaker',
    withheld: ids.map((runnerId) => ({ kind: 'deregister', runnerId, instanceId: 'x' })),
  });

  it('accepts a ghost the last sweep run held back by its audited breaker refusal, and only it', () => {
    const inv = ghostInvariant(
      engine([
        sweepRun('2026-11-24T09:40:00.000Z', 'refused', breakerHeld([3, 4])),
        sweepRun('2026-11-24T09:45:00.000Z', 'refused', breakerHeld([3, 99])),
      ]),
    );
    expect(inv.ok).toBe(false);
    expect(inv.details).toEqual(['runner ci-i-b (id 4) is still registered; its instance is terminated']);
    expect(inv.accepted).toEqual([
      "runner ci-i-a (id 3) is still registered; its instance is terminated: held back by runner-sweep's circuit breaker (runner-sweep:2026-11-24T09:45:00.000Z)",
    ]);
  });

  it('a broken sweep (no refusal naming them: a budget refusal, a run that judged nothing, an unjustified refusal) fails', () => {
    for (const last of [
      sweepRun('2026-11-24T09:45:00.000Z', 'refused', { ...breakerHeld([3, 4]), refusedBy: 'budget' }),
      sweepRun('2026-11-24T09:45:00.000Z', 'refused', { refused: true, refusedBy: 'breaker' }),
      // a refusal its own figures do not justify: 2 of 10 is within the 20% share
      sweepRun('2026-11-24T09:45:00.000Z', 'refused', breakerHeld([3, 4], 10)),
      sweepRun('2026-11-24T09:45:00.000Z', 'skipped', { refused: false }),
    ]) {
      const inv = ghostInvariant(
        engine([sweepRun('2026-11-24T09:40:00.000Z', 'refused', breakerHeld([3, 4])), last]),
      );
      expect(inv.ok).toBe(false);
      expect(inv.details).toHaveLength(2);
    }
    expect(ghostInvariant(engine([])).details).toHaveLength(2);
  });
});
