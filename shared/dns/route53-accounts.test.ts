import { describe, expect, it } from 'vitest';
import { InMemoryRoute53 } from './in-memory-route53';
import { partitionOf, route53ClientFor, zoneRoutedRoute53 } from './route53-accounts';
import { ZoneSet } from './zone-set';

const zones = ZoneSet.of([
  { id: 'ZHUB', name: 'example.com' },
  { id: 'ZNET', name: 'corp.example.com', account: '222222222222' },
  { id: 'ZNET2', name: 'lab.example.com', account: '222222222222' },
  { id: 'ZREV', name: '10.in-addr.arpa', account: '333333333333' },
]);

describe('zoneRoutedRoute53', () => {
  it("sends each zone's calls to its account: local zones here, others through that account's DNS role", async () => {
    const local = new InMemoryRoute53().addZone('ZHUB', 'example.com');
    const remotes = new Map<string, InMemoryRoute53>();
    const port = zoneRoutedRoute53(zones, 'fleetwarden-dns-f1', {
      local: () => local,
      remote: (roleArn) => {
        const fake = new InMemoryRoute53()
          .addZone('ZNET', 'corp.example.com')
          .addZone('ZNET2', 'lab.example.com')
          .addZone('ZREV', '10.in-addr.arpa');
        remotes.set(roleArn, fake);
        return fake;
      },
      partition: 'aws',
    });
    const a = { name: 'db.corp.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] };
    await port.changeRecordSets('ZNET', [{ action: 'CREATE', record: a }]);
    await port.listPage('ZNET2');
    await port.listRecordSets('ZREV');
    await port.listRecordSets('ZHUB');
    // one port (client) per account, whatever the number of its zones
    expect([...remotes.keys()]).toEqual([
      'arn:aws:iam::222222222222:role/fleetwarden-dns-f1',
      'arn:aws:iam::333333333333:role/fleetwarden-dns-f1',
    ]);
    const net = remotes.get('arn:aws:iam::222222222222:role/fleetwarden-dns-f1');
    expect((await net?.listRecordSets('ZNET'))?.filter((r) => r.type === 'A')).toEqual([a]);
    expect((await local.listRecordSets('ZHUB')).filter((r) => r.type === 'A')).toEqual([]);
  });

  it('needs no role for a set of local zones', () => {
    const only = ZoneSet.of([{ id: 'ZHUB', name: 'example.com' }]);
    const local = new InMemoryRoute53();
    expect(zoneRoutedRoute53(only, undefined, { local: () => local, remote: () => local })).toBe(local);
  });
});

describe('route53ClientFor', () => {
  it('memoises one client per role, with credentials assumed from that role', async () => {
    const arn = 'arn:aws:iam::222222222222:role/fleetwarden-dns-f1';
    const client = route53ClientFor(arn, 'dns-sync');
    expect(route53ClientFor(arn, 'dns-sync')).toBe(client);
    expect(route53ClientFor(arn.replace('2222', '4444'), 'dns-sync')).not.toBe(client);
    expect(typeof client.config.credentials).toBe('function');
    expect(await client.config.maxAttempts()).toBe(1);
  });

  it('knows the partition from the region', () => {
    expect(partitionOf('eu-west-1')).toBe('aws');
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
  });
});
