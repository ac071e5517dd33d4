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
import { causeChain } from '../core/error-chain';
import { FleetwardenError } from '../core/errors';
import { isDetachedFleetVolume, monthlyCost, type Tag, toVolume } from '../ec2/volumes';
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
  /**
   * The fleet's tag: an unencrypted detached volume carrying it is named as an orphaned fleet volume
   * (what orphaned-volumes snapshots and removes). @default fleetwarden:fleet=runners (the config default)
   */
  fleetTag?: Tag;
  /** Progress for long scans (pages scanned), one line each. */
  onProgress?: (message: string) => void;
}

interface Meta {
  $metadata?: { requestId?: string };
}

/** A response carried no request id: a finding built on it could not cite its evidence. */
export class MissingEvidenceError extends FleetwardenError {
  override readonly name: string = 'MissingEvidenceError';
}

/** A check that could not be completed in a region: the call that failed and its cause chain. */
export interface ScanFailure {
  check: Coverage['check'];
  region: string;
  operation: string;
  causes: string[];
}

type Evidence = { operation: string; requestId: string };

/**
 * Scans the encryption posture read-only: EBS encryption by default, every EBS volume, every
 * snapshot the account owns, the fleet's log groups (KMS key), the fleet's queues (SSE-KMS or
 * SSE-SQS, keyed by queue ARN) and the audit table (SSE with KMS). Every finding cites the request
 * id of the call whose response proved it; every call made is listed in the report, and `coverage`
 * says per check and region what was looked at (checked / none found / not found / not checked and
 * why). Each check in each region is isolated: a failed call (denied, throttled, an outage, a
 * response without a request id) makes that one check "not checked" with the call and its cause
 * chain (also in `failures`, and passed to `onFailure`), never clean, and the scan goes on.
 */
export async function scanPosture(
  opts: PostureScanOptions & { onFailure?: (failure: ScanFailure, error: unknown) => void },
): Promise<PostureReport> {
  const scan = new Scan(opts);
  for (const region of opts.regions) {
    await scan.check('ebs-default-encryption', region, () => scanEbsDefault(scan, region));
    await scan.check('ebs-volume', region, () => scanVolumes(scan, region));
    await scan.check('ebs-snapshot', region, () => scanSnapshots(scan, region));
    await scan.check('log-group-kms', region, () => scanLogGroups(scan, region));
    await scan.check('sqs-sse', region, () => scanQueues(scan, region));
  }
  const tableRegion = opts.tableName?.startsWith('arn:')
    ? (opts.tableName.split(':')[3] ?? opts.regions[0])
    : (opts.tableRegion ?? opts.regions[0]);
  if (tableRegion) await scan.check('dynamodb-sse', tableRegion, () => checkTable(scan, tableRegion));
  return {
    kind: 'fleetwarden.posture',
    version: 1,
    generatedAt: opts.now().toISOString(),
    regions: opts.regions,
    findings: scan.findings,
    calls: scan.calls,
    coverage: scan.coverage,
    failures: scan.failures,
  };
}

/** The scan's accumulating state; `check` isolates one check in one region. */
class Scan {
  readonly findings: Finding[] = [];
  readonly calls: PostureReport['calls'] = [];
  readonly coverage: Coverage[] = [];
  readonly failures: ScanFailure[] = [];
  /** The call in flight, so a failure names it. */
  private operation = '';
  readonly progress: (m: string) => void;

  constructor(readonly opts: PostureScanOptions & { onFailure?: (f: ScanFailure, e: unknown) => void }) {
    this.progress = opts.onProgress ?? (() => {});
  }

  async check(check: Coverage['check'], region: string, run: () => Promise<void>): Promise<void> {
    const findings = this.findings.length;
    const coverage = this.coverage.length;
    try {
      await run();
    } catch (error) {
      // findings already proven stay (their calls are real); the check's coverage does not
      this.coverage.length = coverage;
      if (check === 'sqs-sse') this.findings.length = findings;
      const failure = { check, region, operation: this.operation, causes: causeChain(error) };
      this.failures.push(failure);
      this.coverage.push({
        check,
        region,
        status: 'not-checked',
        found: 0,
        reason: `${this.operation} in ${region} failed: ${failure.causes.at(-1)}`,
        evidence: [],
      });
      this.opts.onFailure?.(failure, error);
    }
  }

  async send<T extends Meta>(
    region: string,
    operation: string,
    call: () => Promise<T>,
  ): Promise<[T, Evidence]> {
    this.operation = operation;
    const output = await call();
    return [output, this.evidence(region, operation, output)];
  }

  evidence(region: string, operation: string, output: Meta): Evidence {
    const requestId = output.$metadata?.requestId;
    if (!requestId)
      throw new MissingEvidenceError(
        `${operation} in ${region} answered without a request id; a finding built on it could not cite its evidence`,
      );
    this.calls.push({ operation, requestId, region });
    return { operation, requestId };
  }

  add(f: Omit<Finding, 'key'>): void {
    this.findings.push({ key: findingKey(f.check, f.region, f.resourceId), ...f });
  }

  covered(
    check: Coverage['check'],
    region: string,
    listing: Evidence[],
    found: number,
    scope?: string,
  ): void {
    this.coverage.push({
      check,
      region,
      status: 'checked',
      found,
      evidence: listing,
      ...(scope !== undefined ? { scope } : {}),
    });
  }
}

async function scanEbsDefault(scan: Scan, region: string): Promise<void> {
  const ec2 = scan.opts.clients.ec2(region);
  const [byDefault, ev] = await scan.send(region, 'GetEbsEncryptionByDefault', () =>
    ec2.send(new GetEbsEncryptionByDefaultCommand({})),
  );
  scan.add({
    check: 'ebs-default-encryption',
    region,
    resourceType: 'AWS::EC2::EBSEncryptionByDefault',
    resourceId: `ebs-default-encryption/${region}`,
    status: byDefault.EbsEncryptionByDefault ? 'ok' : 'gap',
    detail: byDefault.EbsEncryptionByDefault
      ? 'new EBS volumes are encrypted by default'
      : 'EBS encryption by default is off: new volumes may be unencrypted',
    evidence: ev,
  });
  scan.covered('ebs-default-encryption', region, [ev], 1);
}

async function scanVolumes(scan: Scan, region: string): Promise<void> {
  const ec2 = scan.opts.clients.ec2(region);
  const listing: Evidence[] = [];
  let token: string | undefined;
  let seen = 0;
  do {
    const [out, ev] = await scan.send(region, 'DescribeVolumes', () =>
      ec2.send(new DescribeVolumesCommand({ MaxResults: 500, ...(token ? { NextToken: token } : {}) })),
    );
    listing.push(ev);
    for (const v of out.Volumes ?? []) {
      scan.add({
        check: 'ebs-volume',
        region,
        resourceType: 'AWS::EC2::Volume',
        resourceId: v.VolumeId ?? 'unknown',
        status: v.Encrypted ? 'ok' : 'gap',
        detail: v.Encrypted
          ? `encrypted with ${v.KmsKeyId ?? 'a KMS key'}`
          : (orphanDetail(v, scan.opts.fleetTag ?? DEFAULT_FLEET_TAG) ??
            `unencrypted (${v.State ?? 'unknown state'})`),
        evidence: ev,
      });
    }
    seen += out.Volumes?.length ?? 0;
    scan.progress(`${region}: volumes page ${listing.length} (${seen} so far)`);
    token = out.NextToken;
  } while (token);
  scan.covered('ebs-volume', region, listing, seen);
}

const DEFAULT_FLEET_TAG: Tag = { key: 'fleetwarden:fleet', value: 'runners' };
const INSTANCE_TAG = 'fleetwarden:instance-id';

/** An unencrypted orphaned fleet volume: detached, fleet-tagged, the instance it names, its list-price cost. */
function orphanDetail(v: Parameters<typeof toVolume>[0], fleetTag: Tag): string | undefined {
  const volume = toVolume(v);
  if (!isDetachedFleetVolume(volume, fleetTag)) return undefined;
  const instance = volume.tags[INSTANCE_TAG] ? ` of ${volume.tags[INSTANCE_TAG]}` : '';
  const cost = monthlyCost(volume);
  const price = cost === undefined ? 'price unknown' : `$${cost.toFixed(2)}/month at us-east-1 list price`;
  return `unencrypted orphaned fleet volume${instance} (available, ${fleetTag.key}=${fleetTag.value}; ${volume.sizeGiB} GiB ${volume.volumeType}, ${price}): snapshot it encrypted, or let orphaned-volumes snapshot and remove it`;
}

async function scanSnapshots(scan: Scan, region: string): Promise<void> {
  const ec2 = scan.opts.clients.ec2(region);
  const listing: Evidence[] = [];
  let token: string | undefined;
  let seen = 0;
  do {
    const [out, ev] = await scan.send(region, 'DescribeSnapshots', () =>
      ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    listing.push(ev);
    for (const s of out.Snapshots ?? []) {
      scan.add({
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
    scan.progress(`${region}: snapshots page ${listing.length} (${seen} so far)`);
    token = out.NextToken;
  } while (token);
  scan.covered('ebs-snapshot', region, listing, seen);
}

async function scanLogGroups(scan: Scan, region: string): Promise<void> {
  const logs = scan.opts.clients.logs(region);
  const prefix = scan.opts.stackPrefix;
  const listing: Evidence[] = [];
  let token: string | undefined;
  let seen = 0;
  do {
    const [out, ev] = await scan.send(region, 'DescribeLogGroups', () =>
      logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, ...(token ? { nextToken: token } : {}) }),
      ),
    );
    listing.push(ev);
    for (const g of out.logGroups ?? []) {
      scan.add({
        check: 'log-group-kms',
        region,
        resourceType: 'AWS::Logs::LogGroup',
        resourceId: g.logGroupName ?? 'unknown',
        status: g.kmsKeyId ? 'ok' : 'gap',
        detail: g.kmsKeyId ? `KMS key ${g.kmsKeyId}` : 'no KMS key (CloudWatch Logs default encryption only)',
        evidence: ev,
      });
    }
    seen += out.logGroups?.length ?? 0;
    scan.progress(`${region}: log groups page ${listing.length}`);
    token = out.nextToken;
  } while (token);
  scan.covered('log-group-kms', region, listing, seen, prefix);
}

async function scanQueues(scan: Scan, region: string): Promise<void> {
  const sqs = scan.opts.clients.sqs(region);
  const prefix = scan.opts.stackPrefix;
  const queueUrls: string[] = [];
  const listing: Evidence[] = [];
  let token: string | undefined;
  do {
    const [out, ev] = await scan.send(region, 'ListQueues', () =>
      sqs.send(
        new ListQueuesCommand({
          QueueNamePrefix: prefix,
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    listing.push(ev);
    queueUrls.push(...(out.QueueUrls ?? []));
    token = out.NextToken;
  } while (token);
  for (const [i, url] of queueUrls.entries()) {
    const [out, ev] = await scan.send(region, 'GetQueueAttributes', () =>
      sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['QueueArn', 'KmsMasterKeyId', 'SqsManagedSseEnabled'],
        }),
      ),
    );
    const kms = out.Attributes?.KmsMasterKeyId;
    const sqsManaged = out.Attributes?.SqsManagedSseEnabled === 'true';
    scan.add({
      check: 'sqs-sse',
      region,
      resourceType: 'AWS::SQS::Queue',
      // the ARN, not the URL: the same queue has several URL hosts (legacy, VPC endpoint, FIPS)
      resourceId: out.Attributes?.QueueArn ?? queueArnFromUrl(url, region),
      status: kms || sqsManaged ? 'ok' : 'gap',
      detail: kms
        ? `SSE-KMS with ${kms}`
        : sqsManaged
          ? 'SSE-SQS (SQS-owned key)'
          : 'no server-side encryption',
      evidence: ev,
    });
    if ((i + 1) % 20 === 0) scan.progress(`${region}: queues ${i + 1}/${queueUrls.length}`);
  }
  scan.covered('sqs-sse', region, listing, queueUrls.length, prefix);
}

/** A queue ARN from its URL (…/ACCOUNT/NAME), for a response that did not carry QueueArn. */
export function queueArnFromUrl(url: string, region: string): string {
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account ?? 'unknown'}:${name ?? url}`;
}

async function checkTable(scan: Scan, region: string): Promise<void> {
  const tableName = scan.opts.tableName;
  if (!tableName) {
    scan.coverage.push({
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
  let ev: Evidence;
  try {
    [out, ev] = await scan.send(region, 'DescribeTable', () =>
      scan.opts.clients.dynamodb(region).send(new DescribeTableCommand({ TableName: tableName })),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    scan.coverage.push({
      check: 'dynamodb-sse',
      region,
      status: 'not-found',
      scope: tableNameOf(tableName),
      found: 0,
      reason: `no table ${tableName} in ${region}`,
      evidence: [scan.evidence(region, 'DescribeTable', err as Meta)],
    });
    return;
  }
  const sse = out.Table?.SSEDescription;
  const kms = sse?.Status === 'ENABLED' && sse.SSEType === 'KMS';
  scan.add({
    check: 'dynamodb-sse',
    region,
    resourceType: 'AWS::DynamoDB::Table',
    resourceId: out.Table?.TableArn ?? tableName,
    status: kms ? 'ok' : 'gap',
    detail: kms
      ? `SSE-KMS with ${sse?.KMSMasterKeyArn ?? 'a KMS key'}`
      : 'encrypted with an AWS owned key, not a KMS key',
    evidence: ev,
  });
  scan.covered('dynamodb-sse', region, [ev], 1, tableNameOf(tableName));
}

/** A table name from a name or an ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME). */
export function tableNameOf(nameOrArn: string): string {
  return nameOrArn.includes(':table/') ? (nameOrArn.split(':table/')[1] ?? nameOrArn) : nameOrArn;
}
