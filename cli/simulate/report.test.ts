import { describe, expect, it } from 'vitest';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { SUBJECT, sampleRecords } from '../timeline/html/testing/sample';
import { noDeadLetters } from './invariants';
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
  // the truth: `running` fleet instances EC2 lists, plus the 2 that left (their runners are ghosts)
  const engine = (records: ReturnType<typeof sweepRun>[], running = 5) =>
    ({
      fleetLabel: FLEET,
      routing: { functions: new Map() },
      truth: new Map([
        ['i-a', { id: 'i-a', state: 'terminated' }],
        ['i-b', { id: 'i-b', state: 'terminated' }],
        ...Array.from(
          { length: running },
          (_, k) => [`i-r${k}`, { id: `i-r${k}`, state: 'running' }] as const,
        ),
      ]),
      world: {
        registry: { snapshot: () => [runner(3, 'i-a'), runner(4, 'i-b')] },
        audit: { all: () => records },
      },
    }) as unknown as Engine;
  const breakerHeld = (ids: number[], fleetSize = 5, more: Record<string, unknown>[] = []) => ({
    fleetSize,
    refused: true,
    refusedBy: 'breaker',
    withheld: [...ids.map((runnerId) => ({ kind: 'deregister', runnerId, instanceId: 'x' })), ...more],
  });
  const last = (details: Record<string, unknown>) => sweepRun('2026-11-24T09:45:00.000Z', 'refused', details);

  it('accepts a ghost the last sweep run held back by its audited breaker refusal, and only it', () => {
    const inv = ghostInvariant(
      engine([
        sweepRun('2026-11-24T09:40:00.000Z', 'refused', breakerHeld([3, 4])),
        // one ghost and a termination EC2 confirms: 2 > max(1, floor(0.2 x 5))
        last(breakerHeld([3], 5, [{ kind: 'terminate', instanceId: 'i-r0' }])),
      ]),
    );
    expect(inv.ok).toBe(false);
    expect(inv.details).toEqual(['runner ci-i-b (id 4) is still registered; its instance is terminated']);
    expect(inv.accepted).toEqual([
      "runner ci-i-a (id 3) is still registered; its instance is terminated: held back by runner-sweep's circuit breaker (runner-sweep:2026-11-24T09:45:00.000Z)",
    ]);
  });

  it('a broken sweep (no refusal naming them: a budget refusal, a run that judged nothing, an unjustified refusal) fails', () => {
    for (const final of [
      sweepRun('2026-11-24T09:45:00.000Z', 'refused', { ...breakerHeld([3, 4]), refusedBy: 'budget' }),
      sweepRun('2026-11-24T09:45:00.000Z', 'refused', { refused: true, refusedBy: 'breaker' }),
      sweepRun('2026-11-24T09:45:00.000Z', 'skipped', { refused: false }),
    ]) {
      const inv = ghostInvariant(
        engine([sweepRun('2026-11-24T09:40:00.000Z', 'refused', breakerHeld([3, 4])), final]),
      );
      expect(inv.ok).toBe(false);
      expect(inv.details).toHaveLength(2);
    }
    expect(ghostInvariant(engine([])).details).toHaveLength(2);
  });

  it('judges the share against the fleet EC2 describes, not the fleetSize the record claims', () => {
    // 2 of a fleet of 10 is within the 20% share (the record claims a fleet of 1)
    const unjustified = ghostInvariant(engine([last(breakerHeld([3, 4], 1))], 10));
    expect(unjustified.ok).toBe(false);
    expect(unjustified.details).toHaveLength(2);
    // review3: a refusal claiming fleetSize 1 hides 2 real ghosts in a fleet of 20
    const under = ghostInvariant(engine([last(breakerHeld([3, 4], 1))], 20));
    expect(under.ok).toBe(false);
    expect(under.accepted ?? []).toEqual([]);
  });

  it('counts only withheld runners GitHub has registered, and removals the breaker counts', () => {
    // review3: one real ghost padded with 4 invented runner ids (true fleet 20: the share allows 4)
    const padded = ghostInvariant(engine([last(breakerHeld([3, 901, 902, 903, 904], 20))], 20));
    expect(padded.ok).toBe(false);
    expect(padded.details.length + (padded.accepted?.length ?? 0)).toBe(2);
    expect(padded.accepted ?? []).toEqual([]);
    // a runner named twice is one removal: 1 of 5 is within the share
    const repeated = ghostInvariant(engine([last(breakerHeld([3, 3]))]));
    expect(repeated.accepted ?? []).toEqual([]);
    // removals of runners EC2 does not describe, or left to runner-drain, never trip the breaker
    const flags = [{ unconfirmed: true }, { handoff: true }];
    for (const flag of flags) {
      const entry = { kind: 'deregister', runnerId: 4, instanceId: 'i-b', ...flag };
      const inv = ghostInvariant(engine([last(breakerHeld([3], 5, [entry]))], 5));
      expect(inv.ok).toBe(false);
      expect(inv.accepted ?? []).toEqual([]);
    }
    // a termination counts only for an instance of the fleet EC2 still lists
    const invented = ghostInvariant(
      engine([last(breakerHeld([3], 5, [{ kind: 'terminate', instanceId: 'i-zz' }]))]),
    );
    expect(invented.accepted ?? []).toEqual([]);
  });
});

describe('no message dead-lettered: one on an injected fault is accepted, and shown', () => {
  // "All invariants hold" must not hide a dead letter: the one an injected fault caused (an
  // --adversarial audit outage) passes the invariant but is listed, as the printed report shows it
  const engine = (deadLettered: Record<string, number>, injected: Record<string, number>) =>
    ({
      stats: { deadLettered, deadLetteredOnInjectedFault: injected },
      world: { journal: { runs: [{ unit: 'schedule/sweep/1' }] } },
    }) as unknown as Engine;

  it('lists a dead letter on an injected fault as accepted and fails on any other', () => {
    const ok = noDeadLetters(engine({ 'runner-sweep': 1 }, { 'runner-sweep': 1 }));
    expect(ok.ok).toBe(true);
    expect(ok.accepted).toEqual(['runner-sweep: 1 message or event dead-lettered on an injected fault']);
    const bad = noDeadLetters(engine({ 'runner-sweep': 2 }, { 'runner-sweep': 1 }));
    expect(bad.ok).toBe(false);
    expect(bad.details).toEqual(['runner-sweep: message or event 1 of 1 dead-lettered']);
    expect(noDeadLetters(engine({}, {})).accepted).toBeUndefined();
  });
});
