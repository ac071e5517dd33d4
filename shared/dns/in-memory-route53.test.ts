import { expect, it } from 'vitest';
import { InvalidChangeBatchError } from './errors';
import { InMemoryRoute53 } from './in-memory-route53';
import {
  describeRoute53Contract,
  describeRoute53FaultContract,
  type Route53FaultSubject,
} from './route53.contract';

const subject = (): Route53FaultSubject => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  return { port: fake, seed: (r) => fake.seed('Z1', r), failNext: (c, n) => fake.failNext(c, n) };
};
describeRoute53Contract('InMemoryRoute53', subject);
describeRoute53FaultContract('InMemoryRoute53', subject);

it('counts change requests and their outcome', async () => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  await fake.changeRecordSets('Z1', [
    { action: 'CREATE', record: { name: 'a.example.com.', type: 'A', ttl: 1, values: ['10.0.0.1'] } },
  ]);
  await fake
    .changeRecordSets('Z1', [
      { action: 'CREATE', record: { name: 'a.example.com.', type: 'A', ttl: 1, values: ['10.0.0.1'] } },
    ])
    .catch(() => undefined);
  expect(fake.changeRequests.map((r) => r.outcome)).toEqual(['applied', 'rejected']);
});

it('pages through names that mix digits, hyphens and underscores without looping', async () => {
  const fake = new InMemoryRoute53().addZone('Z1', '10.in-addr.arpa');
  const names = Array.from({ length: 650 }, (_, n) =>
    n % 2 ? `_fleetwarden.${n}.0.0.10.in-addr.arpa.` : `${n}.0.0.10.in-addr.arpa.`,
  );
  fake.seed(
    'Z1',
    names.map((name) => ({ name, type: 'TXT', ttl: 60, values: ['"x"'] })),
  );
  const listed = await fake.listRecordSets('Z1');
  expect(listed).toHaveLength(650);
  expect(fake.listRequests).toBe(3);
});

it('seeding what Route 53 would reject (a CNAME next to an A) fails like the console would: InvalidChangeBatchError', () => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  fake.seed('Z1', [{ name: 'web.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] }]);
  expect(() =>
    fake.seed('Z1', [{ name: 'web.example.com.', type: 'CNAME', ttl: 60, values: ['x.example.net.'] }]),
  ).toThrow(InvalidChangeBatchError);
});

it('ends a page inside a same-name weighted group and resumes only with the identifier, like Route 53', async () => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  fake.seed(
    'Z1',
    Array.from({ length: 301 }, (_, i) => ({
      name: 'w.example.com.',
      type: 'A',
      ttl: 60,
      values: ['10.0.0.1'],
      setIdentifier: `s${String(i).padStart(3, '0')}`,
      weight: 1,
    })),
  );
  const first = await fake.listPage('Z1');
  expect(first.next).toEqual({ name: 'w.example.com.', type: 'A', identifier: 's300' });
  // without StartRecordIdentifier the group starts over (the loop the adapter must not make)
  const again = await fake.listPage('Z1', { name: 'w.example.com.', type: 'A' });
  expect(again.records[0]?.setIdentifier).toBe('s000');
  const rest = await fake.listPage('Z1', first.next);
  expect(rest.records.map((r) => r.setIdentifier)).toEqual(['s300']);
  expect(rest.next).toBeUndefined();
});

it('refuses a simple record set where routing-policy sets share the name and type (and the reverse)', async () => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  const weighted = {
    name: 'w.example.com.',
    type: 'A',
    ttl: 60,
    values: ['10.0.0.1'],
    setIdentifier: 'a',
    weight: 1,
  };
  await fake.changeRecordSets('Z1', [{ action: 'CREATE', record: weighted }]);
  await expect(
    fake.changeRecordSets('Z1', [
      { action: 'CREATE', record: { name: 'w.example.com.', type: 'A', ttl: 60, values: ['10.0.0.2'] } },
    ]),
  ).rejects.toBeInstanceOf(InvalidChangeBatchError);
  // a DELETE must name the set identifier and weight it was created with
  await expect(
    fake.changeRecordSets('Z1', [{ action: 'DELETE', record: { ...weighted, weight: 2 } }]),
  ).rejects.toBeInstanceOf(InvalidChangeBatchError);
  await fake.changeRecordSets('Z1', [{ action: 'DELETE', record: weighted }]);
  expect(fake.records('Z1')).toEqual([]);
});

it('undoes every change of a rejected batch in place (listing order and name index too)', async () => {
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  const a = (name: string, ip: string) => ({ name, type: 'A', ttl: 60, values: [ip] });
  fake.seed('Z1', [a('web.example.com.', '10.0.0.1'), a('api.example.com.', '10.0.0.2')]);
  const before = fake.records('Z1');
  await fake
    .changeRecordSets('Z1', [
      { action: 'DELETE', record: a('web.example.com.', '10.0.0.1') },
      { action: 'CREATE', record: a('new.example.com.', '10.0.0.3') },
      { action: 'CREATE', record: a('api.example.com.', '10.0.0.4') },
    ])
    .catch(() => undefined);
  expect(fake.records('Z1')).toEqual(before);
  expect((await fake.listPage('Z1', { name: 'new.example.com.' }, 1)).records).toEqual([
    a('web.example.com.', '10.0.0.1'),
  ]);
});
