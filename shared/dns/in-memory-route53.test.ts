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
