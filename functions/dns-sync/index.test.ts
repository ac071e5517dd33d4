import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
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
const message = (id: string, account: string, region: string) => ({
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
    detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' },
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
});
