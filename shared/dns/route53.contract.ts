import { describe, expect, it } from 'vitest';
import { InvalidChangeBatchError, Route53BusyError } from './errors';
import type { RecordSet, Route53Port } from './port';

export interface Route53Subject {
  port: Route53Port;
  /** Id of the hosted zone example.com the suite writes to (default "Z1"; the live run passes a real id). */
  zoneId?: string | undefined;
  /** Put records straight into that zone, replacing a set of the same name and type. */
  seed(records: RecordSet[]): void | Promise<void>;
  /** Inject the next failures; only fakes can (a live zone cannot be made to throttle on demand). */
  failNext?: ((code: 'Throttling' | 'PriorRequestNotComplete', count?: number) => void) | undefined;
}

/** A subject that can inject Throttling / PriorRequestNotComplete (the fake, the scripted adapter). */
export interface Route53FaultSubject extends Route53Subject {
  failNext(code: 'Throttling' | 'PriorRequestNotComplete', count?: number): void;
}

const a = (name: string, ip: string, ttl = 60): RecordSet => ({ name, type: 'A', ttl, values: [ip] });

async function rejection(p: Promise<unknown>): Promise<InvalidChangeBatchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidChangeBatchError);
  return err as InvalidChangeBatchError;
}

/**
 * Route 53 behaviour, identical for InMemoryRoute53, Route53ZoneAdapter on the scripted API, and
 * Route53ZoneAdapter on a real hosted zone (route53-zone-adapter.live.test.ts). The zone
 * (`zoneId`, default "Z1") is example.com and starts without records other than the apex's.
 */
export function describeRoute53Contract(name: string, make: () => Route53Subject): void {
  describe(`Route53Port contract: ${name}`, () => {
    it('creates records and lists them back normalized (lowercase, trailing dot)', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      await s.port.changeRecordSets(z, [
        { action: 'CREATE', record: a('Web.Example.com', '10.0.0.1') },
        {
          action: 'CREATE',
          record: { name: '_fleetwarden.web.example.com.', type: 'TXT', ttl: 60, values: ['"x=1"'] },
        },
      ]);
      expect(await s.port.listRecordSets(z)).toEqual(
        expect.arrayContaining([
          a('web.example.com.', '10.0.0.1'),
          { name: '_fleetwarden.web.example.com.', type: 'TXT', ttl: 60, values: ['"x=1"'] },
        ]),
      );
    });

    it('reads every page of a large zone', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      await s.seed(
        Array.from({ length: 700 }, (_, i) => a(`h${String(i).padStart(3, '0')}.example.com.`, '10.0.0.1')),
      );
      const all = await s.port.listRecordSets(z);
      expect(all.filter((r) => r.type === 'A')).toHaveLength(700);
      expect(new Set(all.map((r) => `${r.name}|${r.type}`)).size).toBe(all.length);
    });

    it('reads every page when 300+ weighted records share a name and type (pages end inside the group)', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      const weighted = Array.from(
        { length: 650 },
        (_, i): RecordSet => ({
          name: 'w.example.com.',
          type: 'A',
          ttl: 60,
          values: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`],
          setIdentifier: `s${String(i).padStart(3, '0')}`,
          weight: 1,
        }),
      );
      await s.seed([a('v.example.com.', '10.1.0.1'), ...weighted, a('x.example.com.', '10.1.0.2')]);
      const all = await s.port.listRecordSets(z);
      const group = all.filter((r) => r.name === 'w.example.com.' && r.type === 'A');
      expect(group).toHaveLength(650);
      expect(new Set(group.map((r) => r.setIdentifier)).size).toBe(650);
      expect(group).toContainEqual(weighted[649]);
      expect(all).toContainEqual(a('v.example.com.', '10.1.0.1'));
      expect(all).toContainEqual(a('x.example.com.', '10.1.0.2'));
      expect(new Set(all.map((r) => `${r.name}|${r.type}|${r.setIdentifier ?? ''}`)).size).toBe(all.length);
    });

    it("lists in Route 53's order (labels reversed, trailing dot, then type) and starts at StartRecordName/Type", async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      const txt = (name: string): RecordSet => ({ name, type: 'TXT', ttl: 60, values: ['"x"'] });
      // plain string order would be 0.a, _fleetwarden.a, a-b, a, b, x.a: Route 53 compares
      // com.example.a-b. < com.example.a. ('-' sorts before '.') < com.example.a.0. < com.example.a._fleetwarden. < com.example.a.x.
      await s.seed([
        a('b.example.com.', '10.0.0.6'),
        txt('x.a.example.com.'),
        txt('_fleetwarden.a.example.com.'),
        a('a.example.com.', '10.0.0.1'),
        txt('a.example.com.'),
        txt('0.a.example.com.'),
        a('a-b.example.com.', '10.0.0.2'),
      ]);
      const order = [
        'a-b.example.com.|A',
        'a.example.com.|A',
        'a.example.com.|TXT',
        '0.a.example.com.|TXT',
        '_fleetwarden.a.example.com.|TXT',
        'x.a.example.com.|TXT',
        'b.example.com.|A',
      ];
      const seeded = new Set(order);
      const listed = (await s.port.listRecordSets(z)).map((r) => `${r.name}|${r.type}`);
      expect(listed.filter((k) => seeded.has(k))).toEqual(order);
      const byName = await s.port.listPage(z, { name: 'a.example.com.' }, 2);
      expect(byName.records.map((r) => `${r.name}|${r.type}`)).toEqual(order.slice(1, 3));
      expect(byName.next).toEqual({ name: '0.a.example.com.', type: 'TXT' });
      const byType = await s.port.listPage(z, { name: 'A.Example.com', type: 'TXT' }, 3);
      expect(byType.records.map((r) => `${r.name}|${r.type}`)).toEqual(order.slice(2, 5));
      // a name that holds nothing: the page starts at the next name in Route 53's order
      const absent = await s.port.listPage(z, { name: 'a-a.example.com.' }, 1);
      expect(absent.records.map((r) => `${r.name}|${r.type}`)).toEqual(order.slice(0, 1));
      const last = await s.port.listPage(z, { name: 'b.example.com.' }, 5);
      expect(last.records.map((r) => `${r.name}|${r.type}`)).toEqual(order.slice(6));
    });

    it('rejects CREATE of an existing record, all-or-nothing', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      await s.seed([a('web.example.com.', '10.0.0.1')]);
      const err = await rejection(
        s.port.changeRecordSets(z, [
          { action: 'CREATE', record: a('api.example.com.', '10.0.0.2') },
          { action: 'CREATE', record: a('web.example.com.', '10.0.0.3') },
        ]),
      );
      expect(err.problems).toEqual([
        {
          kind: 'already-exists',
          message:
            "Tried to create resource record set [name='web.example.com.', type='A'] but it already exists",
        },
      ]);
      const names = (await s.port.listRecordSets(z)).map((r) => r.name);
      expect(names).not.toContain('api.example.com.');
    });

    it('DELETE must match the current values exactly, and says which way it failed', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      await s.seed([a('web.example.com.', '10.0.0.1')]);
      const mismatch = await rejection(
        s.port.changeRecordSets(z, [{ action: 'DELETE', record: a('web.example.com.', '10.0.0.9') }]),
      );
      expect(mismatch.problems[0]).toEqual({
        kind: 'values-mismatch',
        message:
          "Tried to delete resource record set [name='web.example.com.', type='A'] but the values provided do not match the current values",
      });
      const ttl = await rejection(
        s.port.changeRecordSets(z, [{ action: 'DELETE', record: a('web.example.com.', '10.0.0.1', 300) }]),
      );
      expect(ttl.problems[0]?.kind).toBe('values-mismatch');
      const gone = await rejection(
        s.port.changeRecordSets(z, [{ action: 'DELETE', record: a('gone.example.com.', '10.0.0.1') }]),
      );
      expect(gone.problems[0]).toEqual({
        kind: 'not-found',
        message:
          "Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found",
      });
      expect(await s.port.listRecordSets(z)).toContainEqual(a('web.example.com.', '10.0.0.1'));
    });

    it('applies DELETE then CREATE of the same record in one batch (compare-and-swap)', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      await s.seed([a('web.example.com.', '10.0.0.1')]);
      const { changeId } = await s.port.changeRecordSets(z, [
        { action: 'DELETE', record: a('web.example.com.', '10.0.0.1') },
        { action: 'CREATE', record: a('web.example.com.', '10.0.0.2') },
      ]);
      expect(changeId).toMatch(/^\/change\/C/);
      expect(await s.port.listRecordSets(z)).toContainEqual(a('web.example.com.', '10.0.0.2'));
    });

    it('rejects a TXT string over 255 characters (CharacterStringTooLong) and accepts it split into strings', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      const txt = (values: string[]): RecordSet => ({
        name: 'long.example.com.',
        type: 'TXT',
        ttl: 60,
        values,
      });
      const tooLong = await rejection(
        s.port.changeRecordSets(z, [{ action: 'CREATE', record: txt([`"${'x'.repeat(256)}"`]) }]),
      );
      expect(tooLong.problems[0]?.kind).toBe('other');
      expect(tooLong.message).toContain('CharacterStringTooLong');
      const split = txt([`"${'x'.repeat(255)}" "${'y'.repeat(255)}"`]);
      await expect(s.port.changeRecordSets(z, [{ action: 'CREATE', record: split }])).resolves.toBeDefined();
      expect(await s.port.listRecordSets(z)).toContainEqual(split);
    });

    it('rejects a name over 253 characters (DomainNameTooLong)', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      const long = (n: number) =>
        `${Array.from({ length: 3 }, () => 'a'.repeat(60)).join('.')}.${'b'.repeat(n)}.example.com.`;
      const name = long(59);
      expect(name.length - 1).toBe(254);
      const err = await rejection(
        s.port.changeRecordSets(z, [{ action: 'CREATE', record: a(name, '10.0.0.1') }]),
      );
      expect(err.problems[0]?.kind).toBe('other');
      expect(err.message).toContain('DomainNameTooLong');
      const fits = long(58);
      await expect(
        s.port.changeRecordSets(z, [{ action: 'CREATE', record: a(fits, '10.0.0.1') }]),
      ).resolves.toBeDefined();
    });

    it('enforces the per-request limits: 1,000 ResourceRecord elements and 32,000 value characters', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      const many = Array.from({ length: 1001 }, (_, i) => ({
        action: 'CREATE' as const,
        record: a(`h${i}.example.com.`, '10.0.0.1'),
      }));
      const tooMany = await rejection(s.port.changeRecordSets(z, many));
      expect(tooMany.message).toContain('Number of records limit of 1000 exceeded.');
      await expect(s.port.changeRecordSets(z, many.slice(0, 1000))).resolves.toBeDefined();
      const long = Array.from({ length: 130 }, (_, i) => ({
        action: 'CREATE' as const,
        record: { name: `t${i}.example.com.`, type: 'TXT', ttl: 60, values: [`"${'x'.repeat(250)}"`] },
      }));
      const tooLong = await rejection(s.port.changeRecordSets(z, long));
      expect(tooLong.message).toContain('32000');
    });
  });
}

/**
 * Route 53 answers that cannot be provoked on demand (Throttling, PriorRequestNotComplete): run by
 * the subjects that can inject them, not by the live run.
 */
export function describeRoute53FaultContract(name: string, make: () => Route53FaultSubject): void {
  describe(`Route53Port contract (injected faults): ${name}`, () => {
    it('reports Throttling ("Rate exceeded") and PriorRequestNotComplete as Route53BusyError', async () => {
      const s = make();
      const z = s.zoneId ?? 'Z1';
      s.failNext('Throttling');
      const throttled = await s.port.listRecordSets(z).catch((e: unknown) => e);
      expect(throttled).toBeInstanceOf(Route53BusyError);
      expect(throttled).toMatchObject({
        code: 'Throttling',
        message: expect.stringContaining('Rate exceeded'),
      });
      s.failNext('PriorRequestNotComplete');
      const prior = await s.port
        .changeRecordSets(z, [{ action: 'CREATE', record: a('web.example.com.', '10.0.0.1') }])
        .catch((e: unknown) => e);
      expect(prior).toMatchObject({ name: 'Route53BusyError', code: 'PriorRequestNotComplete' });
      await expect(
        s.port.changeRecordSets(z, [{ action: 'CREATE', record: a('web.example.com.', '10.0.0.1') }]),
      ).resolves.toBeDefined();
    });
  });
}
