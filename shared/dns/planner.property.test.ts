import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstanceState } from '../ec2/port';
import { compareEvents } from './marker';
import { type DnsPlanConfig, type InstanceFact, latestPerInstance, planDns } from './planner';
import type { RecordSet } from './port';
import { ZoneRecords } from './zone-records';

const config: DnsPlanConfig = {
  zoneName: 'example.com',
  reverseZoneName: '10.in-addr.arpa',
  ownerId: 'prod',
  ttl: 60,
  publishPublicIp: false,
};
const IDS = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003', 'i-00000000000000004'];
const NAMES = ['web', 'api', undefined, 'taken', '*.bad'];
const FOREIGN: RecordSet[] = [
  { name: 'taken.example.com.', type: 'A', ttl: 300, values: ['192.0.2.10'] },
  { name: 'mail.example.com.', type: 'MX', ttl: 300, values: ['10 mx.example.net.'] },
  { name: '_fleetwarden.api2.example.com.', type: 'TXT', ttl: 300, values: ['"not ours"'] },
  { name: 'cname.example.com.', type: 'CNAME', ttl: 300, values: ['elsewhere.example.net.'] },
];
const REVERSE_FOREIGN: RecordSet[] = [
  { name: '9.9.9.10.in-addr.arpa.', type: 'PTR', ttl: 300, values: ['x.example.com.'] },
];
const STATES: InstanceState[] = ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'];
const T0 = Date.parse('2026-11-24T10:00:00Z');

const instanceArb = fc.record({
  states: fc.array(fc.constantFrom(...STATES), { minLength: 1, maxLength: 6 }),
  gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
});

/** Names a human may write to mid-sequence: the generated names and the instance-id fallbacks. */
const CONTESTED = ['web', 'api', 'taken', ...IDS];

/** A human's write between two batches: an A (new, or replacing ours) or a CNAME at one of our names. */
const injectionArb = fc.record({
  beforeBatch: fc.nat(12),
  name: fc.constantFrom(...CONTESTED),
  type: fc.constantFrom('A', 'CNAME'),
});

const scenarioArb = fc.record({
  injections: fc.array(injectionArb, { maxLength: 3 }),
  instances: fc.array(instanceArb, { minLength: 1, maxLength: 4 }),
  names: fc.shuffledSubarray(NAMES, { minLength: 4, maxLength: 4 }),
  seed: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 40, maxLength: 40 }),
  duplicates: fc.array(fc.nat(30), { maxLength: 10 }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 30, maxLength: 30 }),
});

describe('planner under at-least-once, unordered delivery (property)', () => {
  it('ends with exactly the desired zone and never changes a foreign record', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const events: InstanceFact[] = [];
        s.instances.forEach((inst, k) => {
          let t = T0;
          inst.states.forEach((state, j) => {
            t += (inst.gaps[j] ?? 1) * 1000; // gap 0: same-second events
            events.push({
              instanceId: IDS[k] as string,
              state,
              time: new Date(t).toISOString(),
              source: 'event',
              name: s.names[k],
              privateIp:
                state === 'running' || state === 'stopping' || state === 'stopped'
                  ? `10.0.0.${k + 1}`
                  : undefined,
            });
          });
        });
        const deliveries = [...events, ...s.duplicates.map((i) => events[i % events.length] as InstanceFact)]
          .map((e, i) => ({ e, key: s.seed[i % s.seed.length] ?? 0 }))
          .sort((a, b) => a.key - b.key)
          .map((d) => d.e);

        const fwd = new ZoneRecords('example.com', FOREIGN);
        const rev = new ZoneRecords('10.in-addr.arpa', REVERSE_FOREIGN);
        // what humans wrote mid-sequence, by name (the last write at a name wins)
        const injected = new Map<string, RecordSet>();
        const human = (batch: number) => {
          for (const inj of s.injections.filter((x) => x.beforeBatch === batch)) {
            const name = `${inj.name.toLowerCase()}.example.com.`;
            const record: RecordSet =
              inj.type === 'A'
                ? { name, type: 'A', ttl: 300, values: [`192.0.2.${50 + batch}`] }
                : { name, type: 'CNAME', ttl: 300, values: ['elsewhere.example.net.'] };
            // the console replaces what is at the name (Route 53 allows nothing else next to a CNAME)
            for (const r of fwd.at(name)) expect(fwd.apply({ action: 'DELETE', record: r })).toBeUndefined();
            expect(fwd.apply({ action: 'CREATE', record })).toBeUndefined();
            injected.set(name, record);
          }
        };
        let i = 0;
        let b = 0;
        while (i < deliveries.length) {
          human(b);
          const size = s.batchSizes[b++ % s.batchSizes.length] ?? 1;
          const batch = deliveries.slice(i, i + size);
          i += size;
          const plan = planDns({
            config,
            forward: fwd.all(),
            reverse: rev.all(),
            facts: latestPerInstance(batch),
          });
          for (const c of plan.forward.flatMap((u) => u.changes)) expect(fwd.apply(c)).toBeUndefined();
          for (const c of plan.reverse.flatMap((u) => u.changes)) expect(rev.apply(c)).toBeUndefined();
        }

        // desired: the latest event per instance decides; refused names get nothing
        const expectedA = new Map<string, string>();
        const expectedPtr = new Map<string, string>();
        s.instances.forEach((_, k) => {
          const last = events
            .filter((e) => e.instanceId === IDS[k])
            .sort((x, y) => compareEvents(x.time, x.state, y.time, y.state))
            .at(-1) as InstanceFact;
          const name = s.names[k];
          if (last.state !== 'running' || name === 'taken' || name === '*.bad') return;
          const fqdn = `${(name ?? IDS[k] ?? '').toLowerCase()}.example.com.`;
          // a name a human wrote to is theirs from then on (whatever we had there is no longer ours)
          if (injected.has(fqdn)) return;
          expectedA.set(fqdn, `10.0.0.${k + 1}`);
          expectedPtr.set(`${k + 1}.0.0.10.in-addr.arpa.`, fqdn);
        });
        // a contested running instance may keep the PTR it had; a contested leaving one has none
        const contestedPtr = new Set(
          s.instances.flatMap((_, k) => {
            const fqdn = `${(s.names[k] ?? IDS[k] ?? '').toLowerCase()}.example.com.`;
            return injected.has(fqdn) ? [`${k + 1}.0.0.10.in-addr.arpa.`] : [];
          }),
        );
        const foreignNames = new Set(FOREIGN.map((r) => `${r.name}|${r.type}`));
        const actualA = new Map(
          fwd
            .all()
            .filter((r) => r.type === 'A' && !foreignNames.has(`${r.name}|A`) && !injected.has(r.name))
            .map((r) => [r.name, r.values.join(',')]),
        );
        expect(actualA).toEqual(expectedA);
        const actualPtr = new Map(
          rev
            .all()
            .filter(
              (r) => r.type === 'PTR' && r.name !== '9.9.9.10.in-addr.arpa.' && !contestedPtr.has(r.name),
            )
            .map((r) => [r.name, r.values.join(',')]),
        );
        expect(actualPtr).toEqual(expectedPtr);
        // no foreign record changes: neither the initial ones nor those humans wrote mid-sequence
        for (const f of FOREIGN.filter((r) => !injected.has(r.name)))
          expect(fwd.get(f.name, f.type)).toEqual(f);
        for (const f of REVERSE_FOREIGN) expect(rev.get(f.name, f.type)).toEqual(f);
        for (const f of injected.values())
          expect(fwd.at(f.name).filter((r) => r.type !== 'TXT')).toEqual([f]);
      }),
      { numRuns: 300 },
    );
  });
});
