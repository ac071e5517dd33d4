import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type PostureScanOptions, scanPosture } from './scanner';

const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const meta = (requestId: string) => ({ $metadata: { httpStatusCode: 200, requestId } });
const queue = (region: string, name: string) => `https://sqs.${region}.amazonaws.com/123456789012/${name}`;
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable';

function options(over: Partial<PostureScanOptions> = {}): PostureScanOptions {
  return {
    regions: ['eu-west-1'],
    stackPrefix: 'Fleetwarden',
    tableName: 'Fleetwarden-AuditTable',
    clients: {
      ec2: (region) => new EC2Client({ region }),
      logs: (region) => new CloudWatchLogsClient({ region }),
      sqs: (region) => new SQSClient({ region }),
      dynamodb: (region) => new DynamoDBClient({ region }),
    },
    now: () => new Date('2026-11-24T12:00:00Z'),
    ...over,
  };
}

/** An empty account: every listing answers with nothing (each with its own request id). */
function emptyAccount() {
  ec2.on(GetEbsEncryptionByDefaultCommand).resolves({ ...meta('ebs-default'), EbsEncryptionByDefault: true });
  ec2.on(DescribeVolumesCommand).resolves({ ...meta('vols'), Volumes: [] });
  ec2.on(DescribeSnapshotsCommand).resolves({ ...meta('snaps'), Snapshots: [] });
  logs.on(DescribeLogGroupsCommand).resolves({ ...meta('logs'), logGroups: [] });
  sqs.on(ListQueuesCommand).resolves({ ...meta('sqs-list') });
  ddb.on(DescribeTableCommand).resolves({
    ...meta('ddb'),
    Table: {
      TableArn: TABLE_ARN,
      SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY },
    },
  });
}

beforeEach(() => {
  for (const m of [ec2, logs, sqs, ddb]) m.reset();
});

describe('scanPosture', () => {
  it('follows NextToken for snapshots, log groups and ListQueues, citing each page', async () => {
    emptyAccount();
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({
        ...meta('snaps-1'),
        Snapshots: [{ SnapshotId: 'snap-1', Encrypted: true }],
        NextToken: 's2',
      })
      .resolvesOnce({
        ...meta('snaps-2'),
        Snapshots: [{ SnapshotId: 'snap-2', Encrypted: false, VolumeId: 'vol-9' }],
      });
    logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({
        ...meta('logs-1'),
        logGroups: [{ logGroupName: 'Fleetwarden-A', kmsKeyId: KEY }],
        nextToken: 'l2',
      })
      .resolvesOnce({ ...meta('logs-2'), logGroups: [{ logGroupName: 'Fleetwarden-B' }] });
    sqs
      .on(ListQueuesCommand)
      .resolvesOnce({ ...meta('list-1'), QueueUrls: [queue('eu-west-1', 'Fleetwarden-Q1')], NextToken: 'q2' })
      .resolvesOnce({ ...meta('list-2'), QueueUrls: [queue('eu-west-1', 'Fleetwarden-Q2')] });
    sqs.on(GetQueueAttributesCommand).resolves({ ...meta('attrs'), Attributes: { KmsMasterKeyId: KEY } });

    const report = await scanPosture(options());
    const byKey = Object.fromEntries(
      report.findings.map((f) => [f.resourceId, [f.status, f.evidence.requestId]]),
    );
    expect(byKey).toMatchObject({
      'snap-1': ['ok', 'snaps-1'],
      'snap-2': ['gap', 'snaps-2'],
      'Fleetwarden-A': ['ok', 'logs-1'],
      'Fleetwarden-B': ['gap', 'logs-2'],
      'arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-Q1': ['ok', 'attrs'],
      'arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-Q2': ['ok', 'attrs'],
    });
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[1]?.args[0].input.NextToken).toBe('s2');
    expect(logs.commandCalls(DescribeLogGroupsCommand)[1]?.args[0].input.nextToken).toBe('l2');
    expect(sqs.commandCalls(ListQueuesCommand)[1]?.args[0].input.NextToken).toBe('q2');
    expect(report.coverage.find((c) => c.check === 'sqs-sse')).toMatchObject({
      status: 'checked',
      found: 2,
      evidence: [
        { operation: 'ListQueues', requestId: 'list-1' },
        { operation: 'ListQueues', requestId: 'list-2' },
      ],
    });
  });

  it('scans every region with that region’s clients, and the audit table once, in its own region', async () => {
    emptyAccount();
    const asked: string[] = [];
    ec2.on(GetEbsEncryptionByDefaultCommand).callsFake(async (_input, getClient) => {
      asked.push(await getClient().config.region());
      return { ...meta('ebs-default'), EbsEncryptionByDefault: true };
    });
    const seen: string[] = [];
    const clients = options().clients;
    const report = await scanPosture(
      options({
        regions: ['us-east-1', 'eu-central-1'],
        tableRegion: 'eu-west-1',
        clients: {
          ...clients,
          ec2: (r) => {
            seen.push(`ec2:${r}`);
            return clients.ec2(r);
          },
          dynamodb: (r) => {
            seen.push(`ddb:${r}`);
            return clients.dynamodb(r);
          },
        },
      }),
    );
    expect([...new Set(seen)]).toEqual(['ec2:us-east-1', 'ec2:eu-central-1', 'ddb:eu-west-1']);
    expect(asked).toEqual(['us-east-1', 'eu-central-1']);
    expect(report.findings.filter((f) => f.check === 'ebs-default-encryption').map((f) => f.region)).toEqual([
      'us-east-1',
      'eu-central-1',
    ]);
    expect(report.findings.find((f) => f.check === 'dynamodb-sse')?.region).toBe('eu-west-1');
  });

  it('takes the table region from a table ARN', async () => {
    emptyAccount();
    const regions: string[] = [];
    ddb.on(DescribeTableCommand).callsFake(async (input, getClient) => {
      regions.push(await getClient().config.region());
      expect(input.TableName).toBe(TABLE_ARN);
      return { ...meta('ddb'), Table: { TableArn: TABLE_ARN } };
    });
    const report = await scanPosture(options({ regions: ['us-east-1'], tableName: TABLE_ARN }));
    expect(regions).toEqual(['eu-west-1']);
    expect(report.coverage.find((c) => c.check === 'dynamodb-sse')).toMatchObject({
      region: 'eu-west-1',
      scope: 'Fleetwarden-AuditTable',
    });
  });

  it('reports a table that is not KMS-encrypted as a gap', async () => {
    emptyAccount();
    ddb.on(DescribeTableCommand).resolves({ ...meta('ddb-2'), Table: { TableArn: TABLE_ARN } });
    const report = await scanPosture(options());
    expect(report.findings.find((f) => f.check === 'dynamodb-sse')).toMatchObject({
      status: 'gap',
      resourceId: TABLE_ARN,
      detail: 'encrypted with an AWS owned key, not a KMS key',
      evidence: { operation: 'DescribeTable', requestId: 'ddb-2' },
    });
  });

  it('accepts SSE-SQS as encrypted, and flags a queue with neither', async () => {
    emptyAccount();
    sqs.on(ListQueuesCommand).resolves({
      ...meta('list'),
      QueueUrls: [queue('eu-west-1', 'Fleetwarden-Sqs'), queue('eu-west-1', 'Fleetwarden-None')],
    });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: queue('eu-west-1', 'Fleetwarden-Sqs') })
      .resolves({ ...meta('a1'), Attributes: { SqsManagedSseEnabled: 'true' } });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: queue('eu-west-1', 'Fleetwarden-None') })
      .resolves({ ...meta('a2'), Attributes: {} });
    const report = await scanPosture(options());
    expect(report.findings.filter((f) => f.check === 'sqs-sse').map((f) => [f.status, f.detail])).toEqual([
      ['ok', 'SSE-SQS (SQS-owned key)'],
      ['gap', 'no server-side encryption'],
    ]);
  });

  it('says "not found" for a missing table instead of aborting the report after the scan', async () => {
    emptyAccount();
    ddb.on(DescribeTableCommand).rejects(
      new ResourceNotFoundException({
        message: 'Requested resource not found: Table: Fleetwarden-AuditTable not found',
        $metadata: { httpStatusCode: 400, requestId: 'ddb-nf' },
      }),
    );
    const report = await scanPosture(options({ regions: ['eu-west-1', 'us-east-1'] }));
    expect(report.findings.filter((f) => f.check === 'dynamodb-sse')).toHaveLength(0);
    expect(report.findings.filter((f) => f.check === 'ebs-default-encryption')).toHaveLength(2);
    expect(report.coverage.filter((c) => c.check === 'dynamodb-sse')).toEqual([
      expect.objectContaining({
        region: 'eu-west-1',
        status: 'not-found',
        scope: 'Fleetwarden-AuditTable',
        evidence: [{ operation: 'DescribeTable', requestId: 'ddb-nf' }],
      }),
    ]);
  });

  it('says the table was not checked when no table name was given, and "none found" for an empty prefix', async () => {
    emptyAccount();
    const { tableName: _none, ...noTable } = options();
    const report = await scanPosture(noTable);
    expect(ddb.commandCalls(DescribeTableCommand)).toHaveLength(0);
    expect(report.coverage.find((c) => c.check === 'dynamodb-sse')).toMatchObject({
      status: 'not-checked',
      reason: expect.stringContaining('--table-name'),
    });
    expect(report.coverage.find((c) => c.check === 'log-group-kms')).toMatchObject({
      status: 'checked',
      found: 0,
      scope: 'Fleetwarden',
      evidence: [{ operation: 'DescribeLogGroups', requestId: 'logs' }],
    });
  });

  it('reports a response without a request id as "not checked" for that check, never as clean', async () => {
    emptyAccount();
    ec2.on(DescribeVolumesCommand).resolves({ $metadata: { httpStatusCode: 200 }, Volumes: [] });
    const report = await scanPosture(options());
    expect(report.coverage.find((c) => c.check === 'ebs-volume')).toMatchObject({
      status: 'not-checked',
      reason: expect.stringContaining('DescribeVolumes in eu-west-1 answered without a request id'),
    });
    expect(report.failures[0]?.causes[0]).toMatch(/^MissingEvidenceError: /);
  });

  it('isolates a failing check and region: the rest is scanned, the failure is a "not checked" row with its cause', async () => {
    emptyAccount();
    ec2.on(DescribeSnapshotsCommand).callsFake(async (_input, getClient) => {
      if ((await getClient().config.region()) === 'us-east-1')
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'RequestLimitExceeded',
          $metadata: { httpStatusCode: 503, requestId: 'snap-thr' },
        });
      return { ...meta('snaps'), Snapshots: [{ SnapshotId: 'snap-1', Encrypted: false }] };
    });
    sqs.on(ListQueuesCommand).resolves({ ...meta('list'), QueueUrls: [queue('eu-west-1', 'Fleetwarden-Q')] });
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(Object.assign(new Error('Access to the resource is denied.'), { name: 'AccessDenied' }));
    ddb
      .on(DescribeTableCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const report = await scanPosture(
      options({ regions: ['us-east-1', 'eu-west-1'], tableRegion: 'eu-west-1' }),
    );
    const row = (check: string, region: string) =>
      report.coverage.find((c) => c.check === check && c.region === region);
    expect(row('ebs-snapshot', 'us-east-1')).toMatchObject({
      status: 'not-checked',
      reason:
        'DescribeSnapshots in us-east-1 failed: RequestLimitExceeded: Rate exceeded (HTTP 503, request snap-thr)',
    });
    expect(row('ebs-snapshot', 'eu-west-1')).toMatchObject({ status: 'checked', found: 1 });
    expect(row('log-group-kms', 'us-east-1')).toMatchObject({ status: 'checked' });
    expect(row('ebs-volume', 'us-east-1')).toMatchObject({ status: 'checked' });
    expect(row('sqs-sse', 'eu-west-1')).toMatchObject({
      status: 'not-checked',
      reason: expect.stringContaining('GetQueueAttributes in eu-west-1 failed: AccessDenied'),
    });
    expect(row('dynamodb-sse', 'eu-west-1')).toMatchObject({
      status: 'not-checked',
      reason: 'DescribeTable in eu-west-1 failed: TimeoutError: socket hang up',
    });
    expect(report.findings.filter((f) => f.check === 'sqs-sse')).toEqual([]);
    expect(report.failures.map((f) => [f.check, f.region, f.operation])).toEqual([
      ['ebs-snapshot', 'us-east-1', 'DescribeSnapshots'],
      ['sqs-sse', 'us-east-1', 'GetQueueAttributes'], // the mock lists the same queue in both regions
      ['sqs-sse', 'eu-west-1', 'GetQueueAttributes'],
      ['dynamodb-sse', 'eu-west-1', 'DescribeTable'],
    ]);
  });

  it('names an unencrypted orphaned fleet volume (detached, fleet-tagged) with its cost, and no other volume', async () => {
    emptyAccount();
    const fleet = [{ Key: 'fleetwarden:fleet', Value: 'runners' }];
    ec2.on(DescribeVolumesCommand).resolves({
      ...meta('vols'),
      Volumes: [
        {
          VolumeId: 'vol-orphan',
          State: 'available',
          Size: 100,
          VolumeType: 'gp3',
          Encrypted: false,
          Tags: [...fleet, { Key: 'fleetwarden:instance-id', Value: 'i-0123456789abcdef0' }],
        },
        {
          VolumeId: 'vol-attached',
          State: 'in-use',
          Size: 100,
          VolumeType: 'gp3',
          Encrypted: false,
          Tags: fleet,
          Attachments: [{ InstanceId: 'i-0123456789abcdef1' }],
        },
        { VolumeId: 'vol-foreign', State: 'available', Size: 100, VolumeType: 'gp3', Encrypted: false },
        {
          VolumeId: 'vol-sealed',
          State: 'available',
          Size: 100,
          VolumeType: 'gp3',
          Encrypted: true,
          Tags: fleet,
        },
      ],
    });
    const report = await scanPosture(options());
    const detail = (id: string) => report.findings.find((f) => f.resourceId === id)?.detail ?? '';
    expect(report.findings.find((f) => f.resourceId === 'vol-orphan')).toMatchObject({
      check: 'ebs-volume',
      status: 'gap',
    });
    expect(detail('vol-orphan')).toMatch(
      /^unencrypted orphaned fleet volume .*i-0123456789abcdef0.*100 GiB gp3, \$8\.00\/month/,
    );
    for (const id of ['vol-attached', 'vol-foreign', 'vol-sealed'])
      expect(detail(id)).not.toMatch(/orphaned/);
    const custom = await scanPosture(options({ fleetTag: { key: 'team', value: 'ci' } }));
    expect(custom.findings.find((f) => f.resourceId === 'vol-orphan')?.detail).not.toMatch(/orphaned/);
  });

  it('keys a queue by its ARN, so the same queue seen through another endpoint host is the same finding', async () => {
    emptyAccount();
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-Q';
    sqs.on(ListQueuesCommand).resolves({
      ...meta('list'),
      QueueUrls: ['https://eu-west-1.queue.amazonaws.com/123456789012/Fleetwarden-Q'],
    });
    sqs.on(GetQueueAttributesCommand).resolves({ ...meta('attrs'), Attributes: { QueueArn: arn } });
    const report = await scanPosture(options());
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input.AttributeNames).toContain(
      'QueueArn',
    );
    expect(report.findings.find((f) => f.check === 'sqs-sse')).toMatchObject({
      resourceId: arn,
      key: `sqs-sse:eu-west-1:${arn}`,
    });
  });
});
