import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOPOLOGY_ENV } from '../../shared/aws/scope-env';

/** The single-zone environment the construct writes. */
const ENV = {
  AUDIT_TABLE_NAME: 'audit',
  HOSTED_ZONE_ID: 'Z0123456789ABC',
  ZONE_NAME: 'fleet.example.com',
  OWNER_ID: 'fleetwarden-prod',
  AWS_REGION: 'eu-west-1',
};
/** The schedule's event at `time`. */
const tick = (time: string) =>
  ({
    version: '0',
    id: 'tick',
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    account: '111111111111',
    region: 'eu-west-1',
    time,
    resources: [],
    detail: {},
  }) as never;

// a fresh entry (and its wiring) per test: modules are shared per worker, and another file may have
// wired the same entry already, without spokes
beforeEach(() => {
  vi.resetModules();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('dns-reconcile Lambda entry across accounts', () => {
  it("compares the zone with the instances of the hub and of every spoke region (a spoke's record is not stale)", async () => {
    const env = {
      ...ENV,
      [TOPOLOGY_ENV.hubAccount]: '111111111111',
      [TOPOLOGY_ENV.spokes]: '222222222222:us-east-1',
      [TOPOLOGY_ENV.fleetId]: 'prod',
      [TOPOLOGY_ENV.partition]: 'aws',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const r53 = mockClient(Route53Client);
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    const ddb = mockClient(DynamoDBClient).resolves({});
    try {
      const { handler } = await import('./index');
      await handler(tick(new Date().toISOString()), {} as Context).catch(() => undefined);
      const regions = await Promise.all(
        ec2.commandCalls(DescribeInstancesCommand).map((c) => (c.thisValue as EC2Client).config.region()),
      );
      expect(new Set(regions)).toEqual(new Set(['eu-west-1', 'us-east-1']));
    } finally {
      ec2.restore();
      r53.restore();
      ddb.restore();
    }
  });

  it("asks the audit table's byInstance index for dns-sync's records of an instance launched lately (Query, from the launch)", async () => {
    const env = ENV;
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0123456789abcdef0',
              State: { Name: 'running' },
              PrivateIpAddress: '10.0.0.8',
              LaunchTime: new Date('2026-11-24T12:20:00Z'),
              Tags: [{ Key: 'fleetwarden:dns-name', Value: 'web' }],
            },
          ],
        },
      ],
    });
    const r53 = mockClient(Route53Client);
    r53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    const ddb = mockClient(DynamoDBClient).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    try {
      const { handler } = await import('./index');
      await handler(tick('2026-11-24T12:30:00Z'), {} as Context).catch(() => undefined);
      const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
      expect(queries).toEqual([
        expect.objectContaining({
          TableName: 'audit',
          IndexName: 'byInstance',
          ExpressionAttributeValues: {
            ':pk': { S: 'i-0123456789abcdef0' },
            ':since': { S: '2026-11-24T12:20:00.000Z' },
          },
        }),
      ]);
      // no record of dns-sync: the zone is read
      expect(r53.commandCalls(ListResourceRecordSetsCommand).length).toBeGreaterThan(0);
    } finally {
      ec2.restore();
      r53.restore();
      ddb.restore();
    }
  });
});
