import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import { command } from './posture';

const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const meta = (requestId: string) => ({ $metadata: { httpStatusCode: 200, requestId } });
const QUEUE_OK = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Fleetwarden-DnsSyncDeadLetter4C3A-abc';
const QUEUE_GAP = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Fleetwarden-RunnerEventsQueue-xyz';

/** Recorded responses before the fix: default encryption off, one bare volume, one bare snapshot... */
function recordBefore() {
  ec2
    .on(GetEbsEncryptionByDefaultCommand)
    .resolves({ ...meta('ebs-default-1'), EbsEncryptionByDefault: false });
  ec2
    .on(DescribeVolumesCommand)
    .resolvesOnce({
      ...meta('vols-1a'),
      Volumes: [
        { VolumeId: 'vol-0aaa1111', Encrypted: true, KmsKeyId: KEY, State: 'in-use' },
        { VolumeId: 'vol-0bbb2222', Encrypted: false, State: 'in-use' },
      ],
      NextToken: 'vol-page-2',
    })
    .resolvesOnce({
      ...meta('vols-1b'),
      Volumes: [{ VolumeId: 'vol-0ccc3333', Encrypted: true, KmsKeyId: KEY, State: 'available' }],
    });
  ec2.on(DescribeSnapshotsCommand).resolves({
    ...meta('snaps-1'),
    Snapshots: [
      { SnapshotId: 'snap-0ddd4444', Encrypted: false, VolumeId: 'vol-0bbb2222', State: 'completed' },
    ],
  });
  logs.on(DescribeLogGroupsCommand).resolves({
    ...meta('logs-1'),
    logGroups: [
      { logGroupName: 'Fleetwarden-DnsSyncLogGroupA1B2-xyz', kmsKeyId: KEY },
      { logGroupName: 'Fleetwarden-LegacyLogGroup-old' },
    ],
  });
  sqs.on(ListQueuesCommand).resolves({ ...meta('sqs-list-1'), QueueUrls: [QUEUE_OK, QUEUE_GAP] });
  sqs
    .on(GetQueueAttributesCommand, { QueueUrl: QUEUE_OK })
    .resolves({ ...meta('sqs-attr-ok'), Attributes: { KmsMasterKeyId: KEY } });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_GAP }).resolves({
    ...meta('sqs-attr-gap'),
    Attributes: { SqsManagedSseEnabled: 'false' },
  });
  ddb.on(DescribeTableCommand).resolves({
    ...meta('ddb-describe-1'),
    Table: {
      TableName: 'Fleetwarden-AuditTable',
      TableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable',
      SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY },
    },
  });
}

/** ...and after: default encryption on, the volume re-created encrypted, the snapshot deleted, the log group keyed. */
function recordAfter() {
  ec2.reset();
  logs.reset();
  ec2
    .on(GetEbsEncryptionByDefaultCommand)
    .resolves({ ...meta('ebs-default-2'), EbsEncryptionByDefault: true });
  ec2.on(DescribeVolumesCommand).resolves({
    ...meta('vols-2'),
    Volumes: [
      { VolumeId: 'vol-0aaa1111', Encrypted: true, KmsKeyId: KEY },
      { VolumeId: 'vol-0bbb2222', Encrypted: true, KmsKeyId: KEY },
      { VolumeId: 'vol-0ccc3333', Encrypted: true, KmsKeyId: KEY },
    ],
  });
  ec2.on(DescribeSnapshotsCommand).resolves({ ...meta('snaps-2'), Snapshots: [] });
  logs.on(DescribeLogGroupsCommand).resolves({
    ...meta('logs-2'),
    logGroups: [
      { logGroupName: 'Fleetwarden-DnsSyncLogGroupA1B2-xyz', kmsKeyId: KEY },
      { logGroupName: 'Fleetwarden-LegacyLogGroup-old', kmsKeyId: KEY },
    ],
  });
}

beforeEach(() => {
  for (const m of [ec2, logs, sqs, ddb]) m.reset();
});

describe('fleetwarden posture', () => {
  it('reports every finding with the resource and the request id that proved it, with progress on stderr', async () => {
    recordBefore();
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'posture'], t.deps, [command])).toBe(EXIT.ok);
    expect(t.stdout()).toMatchInlineSnapshot(`
      "# fleetwarden encryption posture

      Generated 2026-11-24T12:00:00.000Z for eu-west-1: 10 resources checked, **5 gaps**, 5 ok, 9 API calls.

      ## Gaps

      | Check | Region | Resource | Finding | Evidence (API request id) |
      |---|---|---|---|---|
      | EBS encryption by default | eu-west-1 | \`ebs-default-encryption/eu-west-1\` | EBS encryption by default is off: new volumes may be unencrypted | GetEbsEncryptionByDefault \`ebs-default-1\` |
      | EBS volume | eu-west-1 | \`vol-0bbb2222\` | unencrypted (in-use) | DescribeVolumes \`vols-1a\` |
      | EBS snapshot | eu-west-1 | \`snap-0ddd4444\` | unencrypted snapshot of vol-0bbb2222 | DescribeSnapshots \`snaps-1\` |
      | Log group (KMS) | eu-west-1 | \`Fleetwarden-LegacyLogGroup-old\` | no KMS key (CloudWatch Logs default encryption only) | DescribeLogGroups \`logs-1\` |
      | SQS queue (SSE) | eu-west-1 | \`arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-RunnerEventsQueue-xyz\` | no server-side encryption | GetQueueAttributes \`sqs-attr-gap\` |

      ## OK

      | Check | Region | Resource | Finding | Evidence (API request id) |
      |---|---|---|---|---|
      | EBS volume | eu-west-1 | \`vol-0aaa1111\` | encrypted with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeVolumes \`vols-1a\` |
      | EBS volume | eu-west-1 | \`vol-0ccc3333\` | encrypted with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeVolumes \`vols-1b\` |
      | Log group (KMS) | eu-west-1 | \`Fleetwarden-DnsSyncLogGroupA1B2-xyz\` | KMS key arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeLogGroups \`logs-1\` |
      | SQS queue (SSE) | eu-west-1 | \`arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-DnsSyncDeadLetter4C3A-abc\` | SSE-KMS with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | GetQueueAttributes \`sqs-attr-ok\` |
      | Audit table (SSE) | eu-west-1 | \`arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable\` | SSE-KMS with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeTable \`ddb-describe-1\` |

      ## Coverage

      | Check | Region | Looked at | Evidence (API request id) |
      |---|---|---|---|
      | EBS encryption by default | eu-west-1 | 1 checked | GetEbsEncryptionByDefault \`ebs-default-1\` |
      | EBS volume | eu-west-1 | 3 checked | DescribeVolumes \`vols-1a\`, DescribeVolumes \`vols-1b\` |
      | EBS snapshot | eu-west-1 | 1 checked | DescribeSnapshots \`snaps-1\` |
      | Log group (KMS) | eu-west-1 | 2 checked (names starting with \`Fleetwarden\`) | DescribeLogGroups \`logs-1\` |
      | SQS queue (SSE) | eu-west-1 | 2 checked (names starting with \`Fleetwarden\`) | ListQueues \`sqs-list-1\` |
      | Audit table (SSE) | eu-west-1 | 1 checked (table \`Fleetwarden-AuditTable\`) | DescribeTable \`ddb-describe-1\` |
      "
    `);
    expect(ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input.OwnerIds).toEqual(['self']);
    expect(ec2.commandCalls(DescribeVolumesCommand)[1]?.args[0].input.NextToken).toBe('vol-page-2');
    expect(logs.commandCalls(DescribeLogGroupsCommand)[0]?.args[0].input.logGroupNamePrefix).toBe(
      'Fleetwarden',
    );
    expect(t.stderr()).toContain('posture: eu-west-1: volumes page 2 (3 so far)');
    expect(t.stderr()).toContain('posture: 10 resources, 5 gaps');
  });

  it('shows the gaps closed on a second run after the fix (--baseline)', async () => {
    recordBefore();
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'posture', '--format', 'json', '--out', 'before.json'], t.deps, [
      command,
    ]);
    const before = JSON.parse(t.files.get('before.json') ?? '{}');
    expect(
      before.findings
        .filter((f: { status: string }) => f.status === 'gap')
        .map((f: { key: string }) => f.key),
    ).toEqual([
      'ebs-default-encryption:eu-west-1:ebs-default-encryption/eu-west-1',
      'ebs-volume:eu-west-1:vol-0bbb2222',
      'ebs-snapshot:eu-west-1:snap-0ddd4444',
      'log-group-kms:eu-west-1:Fleetwarden-LegacyLogGroup-old',
      'sqs-sse:eu-west-1:arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-RunnerEventsQueue-xyz',
    ]);

    recordAfter();
    t.clock.advance(86_400_000);
    const code = await runCli(
      ['node', 'fleetwarden', 'posture', '--baseline', 'before.json', '--fail-on-gaps'],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.failure); // the queue is still open
    const md = t.stdout();
    const closed = md.slice(md.indexOf('### Closed'), md.indexOf('## Gaps'));
    expect(closed).toMatchInlineSnapshot(`
      "### Closed

      | Check | Region | Resource | Was | Now | Evidence (API request id) |
      |---|---|---|---|---|---|
      | EBS encryption by default | eu-west-1 | \`ebs-default-encryption/eu-west-1\` | EBS encryption by default is off: new volumes may be unencrypted | new EBS volumes are encrypted by default | GetEbsEncryptionByDefault \`ebs-default-2\` |
      | EBS volume | eu-west-1 | \`vol-0bbb2222\` | unencrypted (in-use) | encrypted with arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeVolumes \`vols-2\` |
      | EBS snapshot | eu-west-1 | \`snap-0ddd4444\` | unencrypted snapshot of vol-0bbb2222 | resource no longer exists | absent from DescribeSnapshots \`snaps-2\` |
      | Log group (KMS) | eu-west-1 | \`Fleetwarden-LegacyLogGroup-old\` | no KMS key (CloudWatch Logs default encryption only) | KMS key arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab | DescribeLogGroups \`logs-2\` |

      "
    `);
    expect(md).toContain('4 closed, 0 new, 1 still open.');
  });

  it('does not call a gap closed when the later scan did not look (no table name, another --stack-name)', async () => {
    recordBefore();
    ddb.on(DescribeTableCommand).resolves({
      ...meta('ddb-describe-1'),
      Table: { TableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable' },
    });
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'posture', '--format', 'json', '--out', 'before.json'], t.deps, [
      command,
    ]);
    for (const m of [ec2, logs, sqs, ddb]) m.reset();
    ec2.on(GetEbsEncryptionByDefaultCommand).resolves({ ...meta('e2'), EbsEncryptionByDefault: false });
    ec2.on(DescribeVolumesCommand).resolves({ ...meta('v2'), Volumes: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta('s2'), Snapshots: [] });
    logs.on(DescribeLogGroupsCommand).resolves({ ...meta('l2'), logGroups: [] });
    sqs.on(ListQueuesCommand).resolves({ ...meta('q2') });
    const later = testDeps('2026-11-25T12:00:00Z', { FLEETWARDEN_AUDIT_TABLE: '' });
    await later.deps.writeFile('before.json', t.files.get('before.json') ?? '');
    await runCli(
      ['node', 'fleetwarden', 'posture', '--baseline', 'before.json', '--stack-name', 'Other'],
      later.deps,
      [command],
    );
    const md = later.stdout();
    const closed = md.slice(md.indexOf('### Closed'), md.indexOf('### Not checked'));
    expect(closed).not.toContain('Audit table');
    expect(closed).not.toContain('Fleetwarden-LegacyLogGroup-old');
    expect(closed).not.toContain('Fleetwarden-RunnerEventsQueue-xyz');
    expect(md).toContain('2 closed, 0 new, 1 still open, 3 not checked.');
    expect(md).toContain('| Audit table (SSE) | eu-west-1 | not checked: no audit table name');
    expect(md).toContain('| Log group (KMS) | eu-west-1 | none found (names starting with `Other`)');
    expect(later.stderr()).toContain('posture: audit table not checked');
    expect(later.stderr()).toContain('3 baseline gaps not checked');
  });

  it('checks the audit table in its own region ($AWS_REGION or --table-region), not the first --region', async () => {
    recordBefore();
    ec2.on(DescribeVolumesCommand).resolves({ ...meta('vols'), Volumes: [] });
    const asked: string[] = [];
    ddb.on(DescribeTableCommand).callsFake(async (_input, getClient) => {
      asked.push(await getClient().config.region());
      return { ...meta('ddb-x'), Table: { TableArn: 'arn:aws:dynamodb:eu-west-1:1:table/T' } };
    });
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'posture', '--region', 'us-east-1', 'eu-central-1'], t.deps, [
      command,
    ]);
    await runCli(
      ['node', 'fleetwarden', 'posture', '--region', 'us-east-1', '--table-region', 'ap-south-1'],
      t.deps,
      [command],
    );
    expect(t.stderr()).not.toContain('fleetwarden:');
    expect(asked).toEqual(['eu-west-1', 'ap-south-1']);
  });

  it('refuses a baseline that is not a posture report (exit 2)', async () => {
    const t = testDeps();
    await t.deps.writeFile('x.json', '{"hello":1}');
    expect(await runCli(['node', 'fleetwarden', 'posture', '--baseline', 'x.json'], t.deps, [command])).toBe(
      EXIT.usage,
    );
    expect(t.stderr()).toContain('fleetwarden: baseline x.json is not a fleetwarden posture report');
  });

  it('prints the report with "not checked" rows and exits 7 when one call fails, instead of aborting', async () => {
    recordBefore();
    ec2
      .on(DescribeSnapshotsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'posture'], t.deps, [command])).toBe(EXIT.incomplete);
    expect(t.stdout()).toContain(
      '| EBS snapshot | eu-west-1 | not checked: DescribeSnapshots in eu-west-1 failed: RequestLimitExceeded: Rate exceeded | - |',
    );
    expect(t.stdout()).toContain('`vol-0bbb2222`');
    expect(t.stdout()).toContain(
      '**Incomplete: 1 check not checked** (see Coverage); absence is not evidence there.',
    );
    expect(t.stderr()).toContain('posture: not checked: ebs-snapshot in eu-west-1: DescribeSnapshots failed');
  });

  it.each(['AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException'])(
    'maps rejected credentials (%s) to exit 5',
    async (name) => {
      const fail = Object.assign(new Error('invalid'), { name });
      ec2.onAnyCommand().rejects(fail);
      logs.onAnyCommand().rejects(fail);
      sqs.onAnyCommand().rejects(fail);
      ddb.onAnyCommand().rejects(fail);
      const t = testDeps();
      expect(await runCli(['node', 'fleetwarden', 'posture'], t.deps, [command])).toBe(EXIT.noCredentials);
      expect(t.stderr()).toContain(`fleetwarden: AWS rejected the credentials: ${name}: invalid`);
    },
  );

  it('reports access denied with the Investigator hint (exit 6)', async () => {
    ec2.on(GetEbsEncryptionByDefaultCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'posture'], t.deps, [command])).toBe(EXIT.accessDenied);
    expect(t.stderr()).toContain('hint: use the Investigator role');
  });
});
