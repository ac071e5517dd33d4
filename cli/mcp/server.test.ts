import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { toAuditItem } from '../../shared/audit/audit-item';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { scriptAuditTable } from '../../shared/audit/testing/fake-audit-table';
import { recordedEvent } from '../../shared/cloudtrail/testing/recorded';
import type { CliDeps } from '../deps';
import { testDeps } from '../test-deps';
import { createInvestigationServer, type InvestigationOptions } from './server';

const ddb = mockClient(DynamoDBClient);
const ct = mockClient(CloudTrailClient);
const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const sqs = mockClient(SQSClient);
const ALL = [ddb, ct, ec2, logs, sqs] as const;
const meta = (requestId: string) => ({ $metadata: { httpStatusCode: 200, requestId } });
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const RECORD_ID = 'dns-sync:4f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f';
const dnsDelete = AuditRecordSchema.parse(
  auditRecord({
    recordId: RECORD_ID,
    time: '2026-11-24T09:59:00.000Z',
    trigger: { source: 'aws.ec2', id: 'b9f1a3c4-0000-4000-8000-000000000001' },
    subject: { instanceId: 'i-0abc12345', recordName: 'web-1.fleet.example.com' },
    action: 'dns.delete',
    reason: 'instance terminated; A record matched its last private IP 10.0.1.23',
    calls: [
      {
        service: 'Route53',
        operation: 'ChangeResourceRecordSets',
        time: '2026-11-24T09:59:00.400Z',
        requestId: 'r53-req-2',
        outcome: 'success',
      },
    ],
    correlation: {
      status: 'resolved',
      attempts: 1,
      calls: [{ requestId: 'r53-req-2', eventId: 'ct-r53-2', eventName: 'ChangeResourceRecordSets' }],
      trigger: {
        eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
        eventName: 'TerminateInstances',
        eventTime: '2026-11-24T09:58:30.000Z',
        actor: 'arn:aws:sts::123456789012:assumed-role/OnCall/alice@example.com',
      },
    },
  }),
);

const launch = recordedEvent({
  eventId: 'c1d2e3f4-run',
  eventName: 'RunInstances',
  eventTime: '2026-11-24T08:00:00Z',
  requestId: 'run-req-9',
  identity: { type: 'AWSService', invokedBy: 'autoscaling.amazonaws.com' },
  resources: [{ ResourceType: 'AWS::EC2::Instance', ResourceName: 'i-0abc12345' }],
});

/** An audit table holding the record, a trail with the launch, and an encrypted fleet. */
function scriptAws() {
  for (const stub of ALL) stub.reset();
  const items = scriptAuditTable(ddb);
  items.set(RECORD_ID, toAuditItem(dnsDelete, { retentionDays: 400 }));
  ct.on(LookupEventsCommand).resolves({ ...meta('ct-lookup-1'), Events: [launch] });
  ec2
    .on(GetEbsEncryptionByDefaultCommand)
    .resolves({ ...meta('ebs-default-1'), EbsEncryptionByDefault: true });
  ec2.on(DescribeVolumesCommand).resolves({
    ...meta('vols-1'),
    Volumes: [{ VolumeId: 'vol-0bbb2222', Encrypted: false, State: 'in-use' }],
  });
  ec2.on(DescribeSnapshotsCommand).resolves({ ...meta('snaps-1'), Snapshots: [] });
  logs.on(DescribeLogGroupsCommand).resolves({
    ...meta('logs-1'),
    logGroups: [{ logGroupName: 'Fleetwarden-DnsSyncLogGroup-xyz', kmsKeyId: KEY }],
  });
  sqs.on(ListQueuesCommand).resolves({ ...meta('sqs-list-1'), QueueUrls: [] });
  sqs.on(GetQueueAttributesCommand).resolves({ ...meta('sqs-attr-1'), Attributes: {} });
  ddb.on(DescribeTableCommand).resolves({
    ...meta('ddb-describe-1'),
    Table: {
      TableName: 'Fleetwarden-AuditTable',
      TableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable',
      SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY },
    },
  });
}

async function connect(deps: CliDeps, opts: InvestigationOptions = {}) {
  const server = createInvestigationServer(deps, opts);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return client;
}

interface Answer {
  isError?: boolean;
  body: Record<string, unknown> & {
    evidence: { recordIds: string[]; eventIds: string[]; requestIds: string[] };
  };
  text: string;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as { type: string; text: string }[])[0]?.text ?? '';
  return {
    ...(result.isError ? { isError: true } : {}),
    text,
    body: result.isError ? ({} as never) : JSON.parse(text),
  };
}

/** Every SDK command any client sent since the last reset. */
function sentCommands(): string[] {
  return ALL.flatMap((stub) => stub.calls().map((c) => (c.args[0] as object).constructor.name));
}

beforeEach(scriptAws);

describe('fleetwarden mcp tools', () => {
  it('lists the read-only investigations, each annotated read-only, and nothing else', async () => {
    const client = await connect(testDeps().deps);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['explain_record', 'posture', 'timeline']);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
      });
      expect(tool.description).toMatch(/evidence/i);
    }
  });

  it('timeline: the subject entries from the audit table and CloudTrail, with every evidence id', async () => {
    const client = await connect(testDeps().deps);
    const answer = await call(client, 'timeline', { subject: 'i-0abc12345', since: '1d' });
    expect(answer.isError).toBeUndefined();
    expect(answer.body).toMatchObject({ subject: 'i-0abc12345', cloudTrailComplete: true });
    expect(answer.body.evidence).toEqual({
      recordIds: [RECORD_ID],
      eventIds: ['c1d2e3f4-run', '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f', 'ct-r53-2'],
      requestIds: ['run-req-9', 'r53-req-2'],
      githubRequestIds: [],
      githubDeliveryIds: [],
    });
    expect((answer.body.entries as unknown[]).length).toBe(4);
    expect(answer.body.notes).toContain('cloudtrail: page 1 scanned');
  });

  it('explain_record: the record read by id, its calls with their CloudTrail events, and its cause', async () => {
    const client = await connect(testDeps().deps);
    const answer = await call(client, 'explain_record', { recordId: RECORD_ID });
    expect(answer.body).toMatchObject({
      recordId: RECORD_ID,
      decision: 'acted',
      action: 'dns.delete',
      subject: { instanceId: 'i-0abc12345' },
      calls: [
        {
          call: 'Route53.ChangeResourceRecordSets',
          outcome: 'success',
          requestId: 'r53-req-2',
          cloudTrailEventId: 'ct-r53-2',
        },
      ],
      cause: {
        eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
        eventName: 'TerminateInstances',
        actor: 'arn:aws:sts::123456789012:assumed-role/OnCall/alice@example.com',
      },
      correlation: { status: 'resolved' },
    });
    expect(answer.body.evidence).toMatchObject({
      recordIds: [RECORD_ID],
      eventIds: ['6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f', 'ct-r53-2'],
      requestIds: ['r53-req-2'],
    });
  });

  it('explain_record: an unknown id is an error that names the id and the table', async () => {
    const client = await connect(testDeps().deps);
    const answer = await call(client, 'explain_record', { recordId: 'dns-sync:nope' });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain('no audit record dns-sync:nope in table Fleetwarden-AuditTable');
  });

  it('posture: the scan report with the request id of every call it is based on', async () => {
    const client = await connect(testDeps().deps);
    const answer = await call(client, 'posture', {});
    expect(answer.body.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ resourceId: 'vol-0bbb2222', status: 'gap' })]),
    );
    expect(answer.body.evidence.requestIds).toEqual(
      expect.arrayContaining(['ebs-default-1', 'vols-1', 'logs-1', 'ddb-describe-1']),
    );
  });

  it('an AWS failure is a tool error with the cause chain and the hint, not a crash', async () => {
    const client = await connect(testDeps().deps);
    ddb.on(QueryCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), {
        name: 'AccessDeniedException',
      }),
    );
    // the audit table alone failing is a partial answer (CloudTrail's events, marked incomplete)
    const partial = await call(client, 'timeline', { subject: 'i-0abc12345' });
    expect(partial.isError).not.toBe(true);
    expect(partial.body).toMatchObject({ auditComplete: false, audit: { read: false, call: 'Query' } });
    // nothing readable at all: the failure is the answer
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudtrail:LookupEvents'), {
        name: 'AccessDeniedException',
      }),
    );
    const answer = await call(client, 'timeline', { subject: 'i-0abc12345' });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/access denied/);
    expect(answer.text).toMatch(/Investigator role/);
    expect(answer.text).toContain('AccessDeniedException: User is not authorized to perform: dynamodb:Query');
  });

  it('changes nothing: every SDK command any tool sends is a Describe/List/Get/Query/Lookup', async () => {
    const client = await connect(testDeps().deps);
    const perTool: Record<string, string[]> = {};
    const { tools } = await client.listTools();
    const args: Record<string, Record<string, unknown>> = {
      timeline: { subject: 'i-0abc12345' },
      explain_record: { recordId: RECORD_ID },
      posture: {},
    };
    for (const tool of tools) {
      for (const stub of ALL) stub.resetHistory();
      const answer = await call(client, tool.name, args[tool.name] ?? {});
      expect(answer.isError, `${tool.name}: ${answer.text}`).toBeUndefined();
      perTool[tool.name] = sentCommands();
    }
    expect(Object.keys(perTool).sort()).toEqual(['explain_record', 'posture', 'timeline']);
    for (const [name, sent] of Object.entries(perTool)) {
      expect(sent.length, name).toBeGreaterThan(0);
      for (const c of sent) expect(c, name).toMatch(/^(Describe|List|Get|Query|Lookup)[A-Za-z]*Command$/);
    }
    expect(perTool.explain_record).toEqual(['GetItemCommand']);
  });
});

describe('fleetwarden mcp --audit-file', () => {
  it('answers timeline and explain_record from the file without any AWS call; posture says it needs AWS', async () => {
    const t = testDeps();
    t.files.set('/tmp/timeline.json', JSON.stringify([dnsDelete]));
    const client = await connect(t.deps, { auditFile: '/tmp/timeline.json' });
    const timeline = await call(client, 'timeline', { subject: 'web-1.fleet.example.com' });
    expect(timeline.body).toMatchObject({ subject: 'web-1.fleet.example.com', source: '/tmp/timeline.json' });
    expect(timeline.body.evidence.recordIds).toEqual([RECORD_ID]);
    expect(timeline.body.notes).toContain('cloudtrail: not consulted (--audit-file /tmp/timeline.json)');
    const explain = await call(client, 'explain_record', { recordId: RECORD_ID });
    expect(explain.body.evidence.requestIds).toEqual(['r53-req-2']);
    const posture = await call(client, 'posture', {});
    expect(posture.isError).toBe(true);
    expect(posture.text).toMatch(/needs AWS.*--audit-file/);
    expect(sentCommands()).toEqual([]);
  });
});
