import { type CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, ListQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { FleetwardenError } from '../core/errors';
import { type Coverage, type Finding, findingKey, type PostureReport } from './finding';

export interface PostureClients {
  ec2(region: string): EC2Client;
  logs(region: string): CloudWatchLogsClient;
  sqs(region: string): SQSClient;
  dynamodb(region: string): DynamoDBClient;
}

export interface PostureScanOptions {
  regions: string[];
  /** Prefix of the fleet's own log groups and queues (CloudFormation names them after the stack). */
  stackPrefix: string;
  /** The audit table (name or ARN). @default - not checked, and the report says so */
  tableName?: string;
  /**
   * Region of the audit table (the stack's region; an ARN's region wins). Checked there once,
   * whether or not it is one of `regions`; a missing table is reported "not found", not fatal.
   * @default the table ARN's region, else the first of `regions`
   */
  tableRegion?: string;
  clients: PostureClients;
  now: () => Date;
  /** Progress for long scans (pages scanned), one line each. */
  onProgress?: (message: string) => void;
}

interface Meta {
  $metadata?: { requestId?: string };
}

/** A response carried no request id: a finding built on it could not cite its evidence. */
export class MissingEvidenceError extends FleetwardenError {}

/**
 * Scans the encryption posture read-only: EBS encryption by default, every EBS volume, every
 * snapshot the account owns, the fleet's log groups (KMS key), the fleet's queues (SSE-KMS or
 * SSE-SQS) and the audit table (SSE with KMS). Every finding cites the request id of the call
 * whose response proved it (a response without one fails the scan: MissingEvidenceError); every
 * call made is listed in the report, and `coverage` says per check and region what was looked at
 * (checked / none found / not found / not checked and why).
 */
export async function scanPosture(opts: PostureScanOptions): Promise<PostureReport> {
  const findings: Finding[] = [];
  const calls: PostureReport['calls'] = [];
  const coverage: Coverage[] = [];
  const progress = opts.onProgress ?? (() => {});
  const evidence = (region: string, operation: string, output: Meta) => {
    const requestId = output.$metadata?.requestId;
    if (!requestId)
      throw new MissingEvidenceError(
        `${operation} in ${region} answered without a request id; a finding built on it could not cite its evidence`,
      );
    calls.push({ operation, requestId, region });
    return { operation, requestId };
  };
  const add = (f: Omit<Finding, 'key'>) =>
    findings.push({ key: findingKey(f.check, f.region, f.resourceId), ...f });
  const covered = (
    check: Coverage['check'],
    region: string,
    listing: { operation: string; requestId: string }[],
    found: number,
    scope?: string,
  ) =>
    coverage.push({
      check,
      region,
      status: 'checked',
      found,
      evidence: listing,
      ...(scope !== undefined ? { scope } : {}),
    });

  for (const region of opts.regions) {
    const ec2 = opts.clients.ec2(region);

    const byDefault = await ec2.send(new GetEbsEncryptionByDefaultCommand({}));
    const byDefaultEvidence = evidence(region, 'GetEbsEncryptionByDefault', byDefault);
    add({
      check: 'ebs-default-encryption',
      region,
      resourceType: 'AWS::EC2::EBSEncryptionByDefault',
      resourceId: `ebs-default-encryption/${region}`,
      status: byDefault.EbsEncryptionByDefault ? 'ok' : 'gap',
      detail: byDefault.EbsEncryptionByDefault
        ? 'new EBS volumes are encrypted by default'
        : 'EBS encryption by default is off: new volumes may be unencrypted',
      evidence: byDefaultEvidence,
    });
    covered('ebs-default-encryption', region, [byDefaultEvidence], 1);

    let token: string | undefined;
    let page = 0;
    let seen = 0;
    let listing: { operation: string; requestId: string }[] = [];
    do {
      const out = await ec2.send(
        new DescribeVolumesCommand({ MaxResults: 500, ...(token ? { NextToken: token } : {}) }),
      );
      const ev = evidence(region, 'DescribeVolumes', out);
      listing.push(ev);
      for (const v of out.Volumes ?? []) {
        const id = v.VolumeId ?? 'unknown';
        add({
          check: 'ebs-volume',
          region,
          resourceType: 'AWS::EC2::Volume',
          resourceId: id,
          status: v.Encrypted ? 'ok' : 'gap',
          detail: v.Encrypted
            ? `encrypted with ${v.KmsKeyId ?? 'a KMS key'}`
            : `unencrypted (${v.State ?? 'unknown state'})`,
          evidence: ev,
        });
      }
      seen += out.Volumes?.length ?? 0;
      progress(`${region}: volumes page ${++page} (${seen} so far)`);
      token = out.NextToken;
    } while (token);
    covered('ebs-volume', region, listing, seen);

    page = 0;
    seen = 0;
    listing = [];
    do {
      const out = await ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      const ev = evidence(region, 'DescribeSnapshots', out);
      listing.push(ev);
      for (const s of out.Snapshots ?? []) {
        add({
          check: 'ebs-snapshot',
          region,
          resourceType: 'AWS::EC2::Snapshot',
          resourceId: s.SnapshotId ?? 'unknown',
          status: s.Encrypted ? 'ok' : 'gap',
          detail: s.Encrypted
            ? `encrypted with ${s.KmsKeyId ?? 'a KMS key'}`
            : `unencrypted snapshot of ${s.VolumeId ?? 'unknown volume'}`,
          evidence: ev,
        });
      }
      seen += out.Snapshots?.length ?? 0;
      progress(`${region}: snapshots page ${++page} (${seen} so far)`);
      token = out.NextToken;
    } while (token);
    covered('ebs-snapshot', region, listing, seen);

    const logs = opts.clients.logs(region);
    page = 0;
    seen = 0;
    listing = [];
    do {
      const out = await logs.send(
        new DescribeLogGroupsCommand({
          logGroupNamePrefix: opts.stackPrefix,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      const ev = evidence(region, 'DescribeLogGroups', out);
      listing.push(ev);
      for (const g of out.logGroups ?? []) {
        add({
          check: 'log-group-kms',
          region,
          resourceType: 'AWS::Logs::LogGroup',
          resourceId: g.logGroupName ?? 'unknown',
          status: g.kmsKeyId ? 'ok' : 'gap',
          detail: g.kmsKeyId
            ? `KMS key ${g.kmsKeyId}`
            : 'no KMS key (CloudWatch Logs default encryption only)',
          evidence: ev,
        });
      }
      seen += out.logGroups?.length ?? 0;
      progress(`${region}: log groups page ${++page}`);
      token = out.nextToken;
    } while (token);
    covered('log-group-kms', region, listing, seen, opts.stackPrefix);

    const sqs = opts.clients.sqs(region);
    const queueUrls: string[] = [];
    listing = [];
    do {
      const out = await sqs.send(
        new ListQueuesCommand({
          QueueNamePrefix: opts.stackPrefix,
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      listing.push(evidence(region, 'ListQueues', out));
      queueUrls.push(...(out.QueueUrls ?? []));
      token = out.NextToken;
    } while (token);
    covered('sqs-sse', region, listing, queueUrls.length, opts.stackPrefix);
    for (const [i, url] of queueUrls.entries()) {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['KmsMasterKeyId', 'SqsManagedSseEnabled'],
        }),
      );
      const kms = out.Attributes?.KmsMasterKeyId;
      const sqsManaged = out.Attributes?.SqsManagedSseEnabled === 'true';
      add({
        check: 'sqs-sse',
        region,
        resourceType: 'AWS::SQS::Queue',
        resourceId: url,
        status: kms || sqsManaged ? 'ok' : 'gap',
        detail: kms
          ? `SSE-KMS with ${kms}`
          : sqsManaged
            ? 'SSE-SQS (SQS-owned key)'
            : 'no server-side encryption',
        evidence: evidence(region, 'GetQueueAttributes', out),
      });
      if ((i + 1) % 20 === 0) progress(`${region}: queues ${i + 1}/${queueUrls.length}`);
    }
  }

  const tableRegion = opts.tableName?.startsWith('arn:')
    ? (opts.tableName.split(':')[3] ?? opts.regions[0])
    : (opts.tableRegion ?? opts.regions[0]);
  if (tableRegion) await checkTable(tableRegion);

  async function checkTable(region: string): Promise<void> {
    if (!opts.tableName) {
      coverage.push({
        check: 'dynamodb-sse',
        region,
        status: 'not-checked',
        found: 0,
        reason: 'no audit table name (--table-name or FLEETWARDEN_AUDIT_TABLE)',
        evidence: [],
      });
      return;
    }
    let out: DescribeTableCommandOutput;
    try {
      out = await opts.clients.dynamodb(region).send(new DescribeTableCommand({ TableName: opts.tableName }));
    } catch (err) {
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
      coverage.push({
        check: 'dynamodb-sse',
        region,
        status: 'not-found',
        scope: tableNameOf(opts.tableName),
        found: 0,
        reason: `no table ${opts.tableName} in ${region}`,
        evidence: [evidence(region, 'DescribeTable', err as Meta)],
      });
      return;
    }
    const sse = out.Table?.SSEDescription;
    const kms = sse?.Status === 'ENABLED' && sse.SSEType === 'KMS';
    const ev = evidence(region, 'DescribeTable', out);
    add({
      check: 'dynamodb-sse',
      region,
      resourceType: 'AWS::DynamoDB::Table',
      resourceId: out.Table?.TableArn ?? opts.tableName,
      status: kms ? 'ok' : 'gap',
      detail: kms
        ? `SSE-KMS with ${sse?.KMSMasterKeyArn ?? 'a KMS key'}`
        : 'encrypted with an AWS owned key, not a KMS key',
      evidence: ev,
    });
    covered('dynamodb-sse', region, [ev], 1, tableNameOf(opts.tableName));
  }

  return {
    kind: 'fleetwarden.posture',
    version: 1,
    generatedAt: opts.now().toISOString(),
    regions: opts.regions,
    findings,
    calls,
    coverage,
  };
}

/** A table name from a name or an ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME). */
export function tableNameOf(nameOrArn: string): string {
  return nameOrArn.includes(':table/') ? (nameOrArn.split(':table/')[1] ?? nameOrArn) : nameOrArn;
}
