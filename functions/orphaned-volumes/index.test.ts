import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';

describe('orphaned-volumes Lambda entry', () => {
  it('reads its settings from the environment and names a bad one before touching AWS', async () => {
    const { handler } = await import('./index');
    vi.stubEnv('AUDIT_TABLE_NAME', 'audit');
    vi.stubEnv('GRACE_PERIOD_SECONDS', '60');
    try {
      await expect(handler({}, {} as Context)).rejects.toThrow(/GRACE_PERIOD_SECONDS="60"/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('orphaned-volumes Lambda entry across accounts', () => {
  it('a scheduled run looks for volumes in the hub and in every spoke region', async () => {
    const { DescribeVolumesCommand, DescribeInstancesCommand, EC2Client } = await import(
      '@aws-sdk/client-ec2'
    );
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { mockClient } = await import('aws-sdk-client-mock');
    const { TOPOLOGY_ENV } = await import('../../shared/aws/scope-env');
    const env = {
      AUDIT_TABLE_NAME: 'audit',
      AWS_REGION: 'eu-west-1',
      [TOPOLOGY_ENV.hubAccount]: '111111111111',
      [TOPOLOGY_ENV.spokes]: '222222222222:us-east-1,222222222222:eu-central-1',
      [TOPOLOGY_ENV.fleetId]: 'prod',
      [TOPOLOGY_ENV.partition]: 'aws',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    vi.resetModules();
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ddb = mockClient(DynamoDBClient).resolves({});
    try {
      const { handler } = await import('./index');
      const tick = {
        version: '0',
        id: 'tick-1',
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        account: '111111111111',
        region: 'eu-west-1',
        time: new Date().toISOString(),
        resources: [],
        detail: {},
      };
      await handler(tick, {} as Context);
      const regions = await Promise.all(
        ec2
          .commandCalls(DescribeVolumesCommand)
          .map((c) => (c.thisValue as InstanceType<typeof EC2Client>).config.region()),
      );
      expect(new Set(regions)).toEqual(new Set(['eu-west-1', 'us-east-1', 'eu-central-1']));
    } finally {
      ec2.restore();
      ddb.restore();
      vi.unstubAllEnvs();
    }
  });
});
