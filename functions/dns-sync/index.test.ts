import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOPOLOGY_ENV } from '../../shared/aws/scope-env';

const HUB = { account: '111111111111', region: 'eu-west-1' };
const SPOKE = { account: '222222222222', region: 'us-east-1' };
const ENV = {
  AUDIT_TABLE_NAME: 'audit',
  HOSTED_ZONE_ID: 'Z0123456789ABC',
  ZONE_NAME: 'fleet.example.com',
  OWNER_ID: 'fleetwarden-prod',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111111111111/q',
  AWS_REGION: HUB.region,
  [TOPOLOGY_ENV.hubAccount]: HUB.account,
  [TOPOLOGY_ENV.spokes]: `${SPOKE.account}:${SPOKE.region}`,
  [TOPOLOGY_ENV.fleetId]: 'prod',
  [TOPOLOGY_ENV.partition]: 'aws',
};
const message = (id: string, account: string, region: string, instanceId = 'i-0123456789abcdef0') => ({
  messageId: id,
  attributes: { ApproximateReceiveCount: '1' },
  eventSource: 'aws:sqs',
  body: JSON.stringify({
    version: '0',
    id: `evt-${id}`,
    resources: [],
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    account,
    region,
    time: new Date().toISOString(),
    detail: { 'instance-id': instanceId, state: 'running' },
  }),
});

// a fresh entry (and its wiring) per test: modules are shared per worker, and another file may have
// wired the same entry already, without spokes
beforeEach(() => {
  vi.resetModules();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('dns-sync Lambda entry across accounts', () => {
  it("describes a spoke's instance in the spoke (its region, its role) and refuses an unknown account", async () => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ddb = mockClient(DynamoDBClient);
    ddb.on(PutItemCommand).resolves({});
    const r53 = mockClient(Route53Client);
    try {
      const { handler } = await import('./index');
      const event = {
        Records: [message('m1', SPOKE.account, SPOKE.region), message('m2', '333333333333', HUB.region)],
      };
      await handler(event as unknown as SQSEvent, {} as Context);
      const regions = await Promise.all(
        ec2.send.getCalls().map((c) => (c.thisValue as EC2Client).config.region()),
      );
      expect(regions).toEqual(['us-east-1']);
      const items = ddb
        .commandCalls(PutItemCommand)
        .map((c) => JSON.parse(c.args[0].input.Item?.record?.S ?? '{}'));
      const refused = items.find((r) => r.action === 'trust.unknown-account');
      expect(refused).toMatchObject({ decision: 'refused', details: { account: '333333333333' } });
      expect(
        items
          .filter((r) => r.subject?.instanceId && r.action !== 'trust.unknown-account')
          .every((r) => r.account === SPOKE.account),
      ).toBe(true);
    } finally {
      ec2.restore();
      ddb.restore();
      r53.restore();
    }
  });

  it('writes ONE Route 53 change for a batch across scopes, each instance described in its own scope', async () => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    const HUB_ID = 'i-0aaaaaaaaaaaaaaa1';
    const SPOKE_ID = 'i-0bbbbbbbbbbbbbbb2';
    const running = (id: string, ip: string, name: string) => ({
      Instances: [
        {
          InstanceId: id,
          State: { Name: 'running' as const },
          PrivateIpAddress: ip,
          Tags: [{ Key: 'fleetwarden:dns-name', Value: name }],
        },
      ],
    });
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeInstancesCommand).callsFake(async (input, getClient) => {
      const region = await (getClient() as EC2Client).config.region();
      const ids =
        (input as { Filters?: { Name?: string; Values?: string[] }[] }).Filters?.find(
          (f) => f.Name === 'instance-id',
        )?.Values ?? [];
      const own = region === HUB.region ? HUB_ID : SPOKE_ID;
      // an instance exists in its own scope only
      return {
        Reservations: ids
          .filter((id) => id === own)
          .map((id) =>
            id === HUB_ID
              ? running(id, '10.0.0.1', 'hub-1.fleet.example.com')
              : running(id, '10.0.0.2', 'spoke-1.fleet.example.com'),
          ),
      };
    });
    const ddb = mockClient(DynamoDBClient);
    ddb.on(PutItemCommand).resolves({});
    const r53 = mockClient(Route53Client);
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    r53.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: 'c1', Status: 'PENDING', SubmittedAt: new Date() },
    });
    try {
      const { handler } = await import('./index');
      const event = {
        Records: [
          message('m1', HUB.account, HUB.region, HUB_ID),
          message('m2', SPOKE.account, SPOKE.region, SPOKE_ID),
        ],
      };
      const stdout = vi.spyOn(process.stdout, 'write');
      const res = await handler(event as unknown as SQSEvent, {} as Context);
      // tests run with POWERTOOLS_METRICS_DISABLED (vitest.config.ts): no EMF line in the test output
      const emf = stdout.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"_aws"'));
      stdout.mockRestore();
      expect(emf).toEqual([]);
      expect(res.batchItemFailures).toEqual([]);
      const asked = await Promise.all(
        ec2
          .commandCalls(DescribeInstancesCommand)
          .map(async (c) => [
            await (c.thisValue as EC2Client).config.region(),
            c.args[0].input.Filters?.find((f) => f.Name === 'instance-id')?.Values,
          ]),
      );
      expect(asked.sort()).toEqual([
        [HUB.region, [HUB_ID]],
        [SPOKE.region, [SPOKE_ID]],
      ]);
      const changes = r53.commandCalls(ChangeResourceRecordSetsCommand);
      expect(changes).toHaveLength(1);
      const names = changes[0]?.args[0].input.ChangeBatch?.Changes?.map((c) => c.ResourceRecordSet?.Name);
      expect(names).toEqual(
        expect.arrayContaining(['hub-1.fleet.example.com.', 'spoke-1.fleet.example.com.']),
      );
      const items = ddb
        .commandCalls(PutItemCommand)
        .map((c) => JSON.parse(c.args[0].input.Item?.record?.S ?? '{}'));
      const upserts = items.filter((r) => r.action === 'dns.upsert' && r.decision !== 'intended');
      expect(Object.fromEntries(upserts.map((r) => [r.subject.instanceId, r.region]))).toEqual({
        [HUB_ID]: HUB.region,
        [SPOKE_ID]: SPOKE.region,
      });
    } finally {
      ec2.restore();
      ddb.restore();
      r53.restore();
    }
  });
});
