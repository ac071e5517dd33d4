import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultRoute53Client } from '../aws/clients';
import { Route53Error } from './errors';
import { InMemoryRoute53 } from './in-memory-route53';
import {
  describeRoute53Contract,
  describeRoute53FaultContract,
  type Route53FaultSubject,
} from './route53.contract';
import { Route53ZoneAdapter } from './route53-zone-adapter';
import { scriptRoute53 } from './testing/scripted-route53';

const r53 = mockClient(Route53Client);
const client = new Route53Client({ region: 'us-east-1' });
const adapter = new Route53ZoneAdapter(client);

const scripted = (): Route53FaultSubject => {
  r53.reset();
  const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
  scriptRoute53(r53, fake);
  return { port: adapter, seed: (r) => fake.seed('Z1', r), failNext: (c, n) => fake.failNext(c, n) };
};
describeRoute53Contract('Route53ZoneAdapter (scripted Route 53 API)', scripted);
describeRoute53FaultContract('Route53ZoneAdapter (scripted Route 53 API)', scripted);

describe('Route53ZoneAdapter on API-reference shapes', () => {
  beforeEach(() => r53.reset());

  it('sends one ChangeBatch with simple record sets and returns the change id', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves({
      $metadata: { httpStatusCode: 200, requestId: 'b8f4f2b0-0000-4d0a-9d36-EXAMPLE' },
      ChangeInfo: {
        Id: '/change/C2682N5HXP0BZ4',
        Status: 'PENDING',
        SubmittedAt: new Date('2026-11-24T10:00:00Z'),
      },
    });
    const out = await adapter.changeRecordSets(
      'Z1',
      [{ action: 'CREATE', record: { name: 'web.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] } }],
      'fleetwarden dns-sync',
    );
    expect(out).toEqual({ changeId: '/change/C2682N5HXP0BZ4' });
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input).toEqual({
      HostedZoneId: 'Z1',
      ChangeBatch: {
        Comment: 'fleetwarden dns-sync',
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: 'web.example.com.',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '10.0.0.1' }],
            },
          },
        ],
      },
    });
  });

  it('pages with NextRecordName/NextRecordType, decodes octal escapes and marks alias/routing records', async () => {
    r53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({
        ResourceRecordSets: [
          {
            Name: 'example.com.',
            Type: 'NS',
            TTL: 172800,
            ResourceRecords: [{ Value: 'ns-1.awsdns-00.com.' }],
          },
          { Name: '\\052.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] },
        ],
        IsTruncated: true,
        NextRecordName: 'www.example.com.',
        NextRecordType: 'A',
        MaxItems: 2,
      })
      .resolvesOnce({
        ResourceRecordSets: [
          {
            Name: 'www.example.com.',
            Type: 'A',
            AliasTarget: { HostedZoneId: 'Z2', DNSName: 'lb.example.net.', EvaluateTargetHealth: false },
          },
        ],
        IsTruncated: false,
        MaxItems: 2,
      });
    const records = await adapter.listRecordSets('Z1');
    expect(records).toEqual([
      { name: 'example.com.', type: 'NS', ttl: 172800, values: ['ns-1.awsdns-00.com.'] },
      { name: '*.example.com.', type: 'A', ttl: 300, values: ['192.0.2.1'] },
      { name: 'www.example.com.', type: 'A', values: [], alias: true },
    ]);
    const second = r53.commandCalls(ListResourceRecordSetsCommand)[1]?.args[0].input;
    expect(second).toMatchObject({
      HostedZoneId: 'Z1',
      StartRecordName: 'www.example.com.',
      StartRecordType: 'A',
    });
  });

  it('resumes a page that ended inside a same-name routing group with StartRecordIdentifier (NextRecordIdentifier)', async () => {
    const weighted = (id: string) => ({
      Name: 'w.example.com.',
      Type: 'A' as const,
      SetIdentifier: id,
      Weight: 10,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
    });
    r53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({
        ResourceRecordSets: [weighted('a')],
        IsTruncated: true,
        NextRecordName: 'w.example.com.',
        NextRecordType: 'A',
        NextRecordIdentifier: 'b',
        MaxItems: 1,
      })
      .resolvesOnce({ ResourceRecordSets: [weighted('b')], IsTruncated: false, MaxItems: 1 });
    const records = await adapter.listRecordSets('Z1');
    expect(records).toEqual([
      { name: 'w.example.com.', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: 'a', weight: 10 },
      { name: 'w.example.com.', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: 'b', weight: 10 },
    ]);
    expect(r53.commandCalls(ListResourceRecordSetsCommand)[1]?.args[0].input).toMatchObject({
      StartRecordName: 'w.example.com.',
      StartRecordType: 'A',
      StartRecordIdentifier: 'b',
    });
  });

  it('fails instead of looping when Route 53 hands back the page it was asked to start at', async () => {
    r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'w.example.com.',
          Type: 'A',
          SetIdentifier: 'a',
          Weight: 1,
          TTL: 60,
          ResourceRecords: [{ Value: '192.0.2.1' }],
        },
      ],
      IsTruncated: true,
      NextRecordName: 'w.example.com.',
      NextRecordType: 'A',
      NextRecordIdentifier: 'a',
      MaxItems: 1,
    });
    await expect(adapter.listRecordSets('Z1')).rejects.toBeInstanceOf(Route53Error);
    expect(r53.commandCalls(ListResourceRecordSetsCommand).length).toBeLessThanOrEqual(3);
  });

  it('wraps other failures in Route53Error with the cause', async () => {
    const cause = new NoSuchHostedZone({ message: 'No hosted zone found with ID: Z9', $metadata: {} });
    r53.on(ListResourceRecordSetsCommand).rejects(cause);
    const err = await adapter.listRecordSets('Z9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Route53Error);
    expect((err as Error).cause).toBe(cause);
  });
});

describe('the default Route 53 client', () => {
  it("makes one attempt per call: the domain's jittered backoff (apply.ts) owns retries, so they do not stack", async () => {
    expect(await defaultRoute53Client().config.maxAttempts()).toBe(1);
  });
});
