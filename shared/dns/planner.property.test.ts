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

const scenarioArb = fc.record({
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
        let i = 0;
        let b = 0;
        while (i < deliveries.length) {
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
          const fqdn = `${name ?? IDS[k]}.example.com.`;
          expectedA.set(fqdn, `10.0.0.${k + 1}`);
          expectedPtr.set(`${k + 1}.0.0.10.in-addr.arpa.`, fqdn);
        });
        const foreignNames = new Set(FOREIGN.map((r) => `${r.name}|${r.type}`));
        const actualA = new Map(
          fwd
            .all()
            .filter((r) => r.type === 'A' && !foreignNames.has(`${r.name}|A`))
            .map((r) => [r.name, r.values.join(',')]),
        );
        expect(actualA).toEqual(expectedA);
        const actualPtr = new Map(
          rev
            .all()
            .filter((r) => r.type === 'PTR' && r.name !== '9.9.9.10.in-addr.arpa.')
            .map((r) => [r.name, r.values.join(',')]),
        );
        expect(actualPtr).toEqual(expectedPtr);
        for (const f of FOREIGN) expect(fwd.get(f.name, f.type)).toEqual(f);
        for (const f of REVERSE_FOREIGN) expect(rev.get(f.name, f.type)).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });
});
