import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { toAuditItem } from '../../shared/audit/audit-item';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { humanTerminate, recordedEvent } from '../../shared/cloudtrail/testing/recorded';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import { command } from './timeline';

const ddb = mockClient(DynamoDBClient);
const ct = mockClient(CloudTrailClient);

const dnsDelete = AuditRecordSchema.parse(
  auditRecord({
    recordId: 'dns-sync:4f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f',
    time: '2026-11-24T09:59:00.000Z',
    trigger: {
      source: 'aws.ec2',
      id: 'b9f1a3c4-0000-4000-8000-000000000001',
      detailType: 'EC2 Instance State-change Notification',
      time: '2026-11-24T09:58:40Z',
    },
    subject: { instanceId: 'i-0abc12345', recordName: 'web-1.fleet.example.com' },
    action: 'dns.delete',
    reason: 'instance terminated; A record matched its last private IP 10.0.1.23',
    calls: [
      {
        service: 'EC2',
        operation: 'DescribeInstances',
        time: '2026-11-24T09:59:00.100Z',
        requestId: 'a0e1c2d3-ec2-1',
        outcome: 'success',
      },
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
      calls: [
        { requestId: 'a0e1c2d3-ec2-1', eventId: 'ct-describe-1', eventName: 'DescribeInstances' },
        { requestId: 'r53-req-2', eventId: 'ct-r53-2', eventName: 'ChangeResourceRecordSets' },
      ],
      trigger: {
        eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
        eventName: 'TerminateInstances',
        eventTime: '2026-11-24T09:58:30.000Z',
        actor:
          'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com',
      },
      resolvedAt: '2026-11-24T10:05:00.000Z',
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

beforeEach(() => {
  ddb.reset();
  ct.reset();
});

describe('fleetwarden timeline', () => {
  it('prints a readable, time-ordered table with an evidence id on every line', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate, launch] });
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--since', '1d'], t.deps, [
      command,
    ]);
    expect(code).toBe(EXIT.ok);
    expect(t.stdout()).toMatchInlineSnapshot(`
      "Timeline for i-0abc12345: 5 lines, 2026-11-24 (UTC); --wide or --json for every id
      TIME       SOURCE      WHAT                                             EVIDENCE
      08:00:00Z  cloudtrail  RunInstances by autoscaling.amazonaws.com        event=c1d2e3f4-run
      09:58:30Z  cause       TerminateInstances by alice@example.com (role …  event=6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f
      09:59:00Z  audit       dns.delete acted: instance terminated; A recor…  record=dns-sync:4f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f
      09:59:00Z    aws call  EC2.DescribeInstances success [in CloudTrail]    event=ct-describe-1
      09:59:00Z    aws call  Route53.ChangeResourceRecordSets success [in C…  event=ct-r53-2
      "
    `);
    for (const line of t.stdout().trim().split('\n').slice(2))
      expect(line).toMatch(/(record|event|request)=\S+/);
    // only the instance index was queried, from the --since time
    const query = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect([query?.IndexName, query?.ExpressionAttributeValues]).toEqual([
      'byInstance',
      { ':pk': { S: 'i-0abc12345' }, ':since': { S: '2026-11-23T12:00:00.000Z' } },
    ]);
    expect(ct.commandCalls(LookupEventsCommand)[0]?.args[0].input.LookupAttributes).toEqual([
      { AttributeKey: 'ResourceName', AttributeValue: 'i-0abc12345' },
    ]);
    expect(t.stderr()).toContain('cloudtrail: page 1 scanned');
  });

  it('shows an intent whose outcome was never written as "intended, outcome unknown"', async () => {
    const intent = AuditRecordSchema.parse(
      auditRecord({
        recordId: 'runner-sweep:0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        time: '2026-11-24T10:00:00.000Z',
        function: 'runner-sweep',
        trigger: { source: 'fleetwarden.schedule', id: 'run-42' },
        subject: { instanceId: 'i-0abc12345' },
        action: 'instance.terminate',
        decision: 'intended',
        reason: 'about to call EC2.TerminateInstances',
        details: { intendedCall: 'EC2.TerminateInstances' },
        calls: [
          {
            service: 'EC2',
            operation: 'DescribeInstances',
            time: '2026-11-24T10:00:00.000Z',
            requestId: 'ec2-read-1',
            outcome: 'success',
          },
        ],
        correlation: { status: 'not-applicable', attempts: 0, calls: [] },
      }),
    );
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(intent, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    const t = testDeps();
    expect(
      await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--wide'], t.deps, [command]),
    ).toBe(0);
    const line = t
      .stdout()
      .split('\n')
      .find((l) => l.includes('instance.terminate'));
    expect(line).toContain(
      'runner-sweep instance.terminate intended, outcome unknown: about to call EC2.TerminateInstances',
    );
    expect(line).toContain(
      '[no outcome recorded: the step did not finish; EC2.TerminateInstances may or may not have been sent (check CloudTrail)]',
    );
    expect(line).toContain(`record=${intent.recordId}`);
    // the read made before the intent is still shown, without pretending CloudTrail is being asked
    expect(t.stdout()).toContain('EC2.DescribeInstances success [CloudTrail not-applicable]');
  });

  it('emits JSON for machines with the same evidence ids', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate] });
    const t = testDeps();
    expect(
      await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], t.deps, [command]),
    ).toBe(0);
    const parsed = JSON.parse(t.stdout());
    expect(parsed).toMatchObject({
      subject: 'i-0abc12345',
      region: 'eu-west-1',
      table: 'Fleetwarden-AuditTable',
    });
    expect(parsed.entries.map((e: { kind: string; evidence: object }) => [e.kind, e.evidence])).toEqual([
      ['cause', { eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f', recordId: dnsDelete.recordId }],
      ['decision', { recordId: dnsDelete.recordId }],
      ['aws-call', { recordId: dnsDelete.recordId, requestId: 'a0e1c2d3-ec2-1', eventId: 'ct-describe-1' }],
      ['aws-call', { recordId: dnsDelete.recordId, requestId: 'r53-req-2', eventId: 'ct-r53-2' }],
    ]);
  });

  it('queries runner and record-name indexes for a non-instance subject and follows CloudTrail pages', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ct.on(LookupEventsCommand)
      .resolvesOnce({ Events: [launch], NextToken: 'n2' })
      .resolvesOnce({ Events: [humanTerminate] });
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'gh-runner-7', '--json'], t.deps, [command]);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.IndexName)).toEqual([
      'byRunner',
      'byRecordName',
    ]);
    expect(JSON.parse(t.stdout()).entries).toHaveLength(2);
    expect(t.stderr()).toContain('cloudtrail: page 2 scanned');
  });

  it('reads a local audit file (timeline.json of the simulator) without AWS when --audit-file is given', async () => {
    const t = testDeps();
    const records = [
      auditRecord({ recordId: 'sim-1', subject: { instanceId: 'i-0abc12345' }, reason: 'drained' }),
      auditRecord({ recordId: 'sim-2', subject: { instanceId: 'i-0def67890' } }),
    ].map((r) => AuditRecordSchema.parse(r));
    t.files.set('/r/timeline.json', JSON.stringify(records));
    const code = await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--audit-file', '/r/timeline.json'],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.ok);
    expect(t.stdout()).toMatch(/Timeline for i-0abc12345: 2 lines/);
    expect(t.stdout()).not.toContain('sim-2');
    expect(t.stdout()).toMatch(/dns\.delete acted: drained .*record=sim-1/);
    expect(t.stderr()).toMatch(/cloudtrail: not consulted/);
    expect(ddb.calls()).toHaveLength(0);
    expect(ct.calls()).toHaveLength(0);
  });

  it('says clearly when nothing is known about the subject (exit 3)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0deadbeef'], t.deps, [command]);
    expect(code).toBe(EXIT.unknownSubject);
    expect(t.stderr()).toContain(
      'fleetwarden: no audit records or CloudTrail events for "i-0deadbeef" since 2026-11-17T12:00:00.000Z',
    );
    expect(t.stderr()).toContain('hint: check the spelling');
    expect(t.stdout()).toBe('');
  });

  it('reports missing credentials with a hint (exit 5)', async () => {
    ddb.on(QueryCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(
      EXIT.noCredentials,
    );
    expect(t.stderr()).toContain(
      'fleetwarden: no AWS credentials found\n  hint: assume the Investigator role first (e.g. AWS_PROFILE=fleetwarden-investigator, or aws sso login)\n',
    );
    expect(t.stderr()).toContain('audit: not read: Query Fleetwarden-AuditTable in eu-west-1 failed');
  });

  it('reports CloudTrail throttling after the retries are spent (exit 4)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(
      EXIT.throttled,
    );
    expect(t.stderr()).toMatch(
      /fleetwarden: AWS is throttling requests: CloudTrail LookupEvents throttled in eu-west-1/,
    );
    expect(ct.commandCalls(LookupEventsCommand)).toHaveLength(3);
  });

  it('prints the audit records and marks CloudTrail "not read" (call, region, cause) when it is denied', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).rejects(
      Object.assign(
        new Error(
          'User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: cloudtrail:LookupEvents',
        ),
        {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400, requestId: 'ct-denied-1' },
        },
      ),
    );
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command]);
    expect(code).toBe(EXIT.incomplete);
    expect(t.stdout()).toContain('dns.delete acted');
    expect(t.stdout()).toContain(`record=${dnsDelete.recordId}`);
    for (const line of t.stdout().split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(t.stdout()).toMatch(/CloudTrail NOT READ: LookupEvents ResourceName=i-0abc12345 in eu-west-1/);
    expect(t.stderr()).toContain(
      'cloudtrail: not read: LookupEvents ResourceName=i-0abc12345 in eu-west-1 failed',
    );
    expect(t.stderr()).toContain(
      'caused by: AccessDeniedException: User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: cloudtrail:LookupEvents (HTTP 400, request ct-denied-1)',
    );
  });

  it('says cloudTrailComplete: false in JSON and why, with the cause chain, when CloudTrail is not read', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('Unexpected token \'<\', "<html><bod"... is not valid JSON'), {
        name: 'SyntaxError',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], t.deps, [
      command,
    ]);
    expect(code).toBe(EXIT.incomplete);
    const parsed = JSON.parse(t.stdout());
    expect(parsed.cloudTrailComplete).toBe(false);
    expect(parsed.cloudTrail).toEqual({
      source: 'CloudTrail',
      read: false,
      call: 'LookupEvents',
      region: 'eu-west-1',
      query: 'ResourceName=i-0abc12345',
      causes: [
        expect.stringMatching(
          /^CloudTrailLookupError: LookupEvents ResourceName=i-0abc12345 in eu-west-1 failed/,
        ),
        'SyntaxError: Unexpected token \'<\', "<html><bod"... is not valid JSON (HTTP 503)',
      ],
    });
    expect(parsed.entries.map((e: { kind: string }) => e.kind)).toContain('decision');
  });

  it('with nothing in the audit table, a CloudTrail failure is the error (not "unknown subject"), chain under FLEETWARDEN_DEBUG', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('Unexpected token'), {
        name: 'SyntaxError',
        $metadata: { httpStatusCode: 502 },
      }),
    );
    const t = testDeps(undefined, { FLEETWARDEN_DEBUG: '1' });
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command]);
    expect(code).toBe(EXIT.failure);
    expect(t.stderr()).toContain('cause: SyntaxError: Unexpected token (HTTP 502)');
    expect(t.stderr()).toMatch(
      /cause chain:\n {2}CloudTrailLookupError: .*\n {2}SyntaxError: Unexpected token \(HTTP 502\)/,
    );
  });

  it('prints the CloudTrail events and marks the audit table "not read" when the table cannot be read', async () => {
    ddb.on(QueryCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), {
        name: 'AccessDeniedException',
      }),
    );
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate, launch] });
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(
      EXIT.incomplete,
    );
    expect(t.stdout()).toContain('event=c1d2e3f4-run');
    expect(t.stdout()).toContain('AUDIT TABLE NOT READ: Query Fleetwarden-AuditTable in eu-west-1');
    expect(t.stderr()).toContain(
      'caused by: AccessDeniedException: User is not authorized to perform: dynamodb:Query',
    );
    const j = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], j.deps, [command]);
    expect(JSON.parse(j.stdout()).audit).toMatchObject({
      read: false,
      call: 'Query',
      table: 'Fleetwarden-AuditTable',
    });
  });

  it('maps rejected credentials on CloudTrail to the credentials exit code even after reading records', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    );
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(
      EXIT.noCredentials,
    );
    expect(t.stdout()).toContain('dns.delete acted');
    expect(t.stdout()).toContain('CloudTrail NOT READ');
  });

  it('refuses a bad --since and a missing table with exit 2', async () => {
    const t = testDeps();
    expect(
      await runCli(['node', 'fleetwarden', 'timeline', 'x', '--since', 'yesterday'], t.deps, [command]),
    ).toBe(EXIT.usage);
    expect(t.stderr()).toContain('--since "yesterday" is not a date or an age like 90m, 12h, 7d');
    const u = testDeps(undefined, { FLEETWARDEN_AUDIT_TABLE: '' });
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'x'], u.deps, [command])).toBe(EXIT.usage);
    expect(u.stderr()).toContain('no audit table: pass --table-name');
  });

  it('shows a not-yet-correlated call once, with the CloudTrail event matched by request id', async () => {
    const pending = AuditRecordSchema.parse({
      ...dnsDelete,
      correlation: { status: 'pending', attempts: 0, calls: [] },
    });
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(pending, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({
      Events: [
        recordedEvent({
          eventId: 'ct-r53-2',
          eventName: 'ChangeResourceRecordSets',
          eventTime: '2026-11-24T09:59:00Z',
          requestId: 'r53-req-2',
          resources: [{ ResourceType: 'AWS::EC2::Instance', ResourceName: 'i-0abc12345' }],
        }),
      ],
    });
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], t.deps, [command]);
    const entries = JSON.parse(t.stdout()).entries as { kind: string; evidence: { eventId?: string } }[];
    expect(entries.filter((e) => e.evidence.eventId === 'ct-r53-2').map((e) => e.kind)).toEqual(['aws-call']);
    expect(entries.filter((e) => e.kind === 'cloudtrail')).toEqual([]);
  });

  it('shows a record it cannot read (newer schema) as unreadable, with its id, instead of failing', async () => {
    const newer = toAuditItem(dnsDelete, { retentionDays: 400 });
    newer.recordId = { S: 'dns-sync:from-the-future' };
    newer.record = {
      S: JSON.stringify({ ...dnsDelete, recordId: 'dns-sync:from-the-future', schemaVersion: 2 }),
    };
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 }), newer] });
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    const t = testDeps();
    const code = await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command]);
    expect(code).toBe(EXIT.ok);
    expect(t.stdout()).toMatch(/unreadable .*schema.*record=dns-sync:from-the-future/);
    expect(t.stdout()).toContain('dns.delete acted');
    expect(t.stderr()).toContain('1 audit record could not be read');
  });

  it('lists an unreadable record of a local audit file with its id and keeps the rest', async () => {
    const t = testDeps();
    const ok = AuditRecordSchema.parse(
      auditRecord({ recordId: 'sim-1', subject: { instanceId: 'i-0abc12345' } }),
    );
    t.files.set('/r/t.json', JSON.stringify([ok, { ...ok, recordId: 'sim-v9', schemaVersion: 9 }]));
    const code = await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--audit-file', '/r/t.json'],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.ok);
    expect(t.stdout()).toMatch(
      /unreadable +audit record this CLI cannot read: schema version 9; .*record=sim-v9/,
    );
    expect(t.stdout()).toContain('record=sim-1');
  });

  it('shows one line per fact: a cause shared by several records once, listing the records in JSON', async () => {
    const second = AuditRecordSchema.parse({
      ...dnsDelete,
      recordId: 'runner-drain:11112222333344445555666677778888',
      function: 'runner-drain',
      action: 'runner.drain',
      time: '2026-11-24T09:59:05.000Z',
      calls: [],
    });
    ddb.on(QueryCommand).resolves({
      Items: [dnsDelete, second, { ...second, recordId: 'runner-drain:9999' }].map((r) =>
        toAuditItem(AuditRecordSchema.parse(r), { retentionDays: 400 }),
      ),
    });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate] });
    const t = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command]);
    expect(
      t
        .stdout()
        .split('\n')
        .filter((l) => / cause /.test(l)),
    ).toHaveLength(1);
    const u = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], u.deps, [command]);
    const causes = JSON.parse(u.stdout()).entries.filter((e: { kind: string }) => e.kind === 'cause');
    expect(causes).toHaveLength(1);
    expect(causes[0].records).toEqual([dnsDelete.recordId, second.recordId, 'runner-drain:9999']);
  });

  it('fits 120 columns with one evidence id per line; --wide shows every detail', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate, launch] });
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(0);
    const lines = t.stdout().trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(120);
    for (const line of lines.slice(2)) expect(line).toMatch(/(record|event|request)=\S+$/);
    expect(t.stdout()).toContain('TerminateInstances by alice@example.com');
    const w = testDeps();
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--wide'], w.deps, [command]);
    expect(w.stdout()).toContain(
      'TerminateInstances by arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com (triggered dns.delete)',
    );
    expect(w.stdout()).toContain(
      'record=dns-sync:4f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f event=ct-describe-1 request=a0e1c2d3-ec2-1',
    );
  });

  it('applies --since and --until to every kind of line (causes and CloudTrail events too)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate, launch] });
    const t = testDeps();
    await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json', '--since', '2026-11-24T09:58:45Z'],
      t.deps,
      [command],
    );
    const kinds = JSON.parse(t.stdout()).entries.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['decision', 'aws-call', 'aws-call']);
    const u = testDeps();
    await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json', '--until', '2026-11-24T09:58:45Z'],
      u.deps,
      [command],
    );
    expect(JSON.parse(u.stdout()).entries.map((e: { kind: string }) => e.kind)).toEqual([
      'cloudtrail',
      'cause',
    ]);
    expect(ct.commandCalls(LookupEventsCommand).at(-1)?.args[0].input.EndTime).toEqual(
      new Date('2026-11-24T09:58:45Z'),
    );
  });

  it('matches a subject by instance id, runner name or record name, and suggests a close known one (exit 3)', async () => {
    const records = [
      auditRecord({
        recordId: 'sim-1',
        subject: { instanceId: 'i-0abc12345', recordName: 'web-1.fleet.example.com' },
      }),
      auditRecord({ recordId: 'sim-2', subject: { instanceId: 'i-0def67890', runnerName: 'gh-runner-7' } }),
    ].map((r) => AuditRecordSchema.parse(r));
    const run = async (subject: string) => {
      const t = testDeps();
      t.files.set('/r/t.json', JSON.stringify(records));
      const code = await runCli(
        ['node', 'fleetwarden', 'timeline', subject, '--audit-file', '/r/t.json'],
        t.deps,
        [command],
      );
      return { code, out: t.stdout(), err: t.stderr() };
    };
    expect((await run('gh-runner-7')).out).toContain('record=sim-2');
    expect((await run('Web-1.Fleet.Example.com.')).out).toContain('record=sim-1');
    const typo = await run('i-0abc12354');
    expect(typo.code).toBe(EXIT.unknownSubject);
    expect(typo.err).toContain('did you mean i-0abc12345?');
    const runnerTypo = await run('gh-runnr-7');
    expect(runnerTypo.err).toContain('did you mean gh-runner-7?');
    expect((await run('completely-else')).err).not.toContain('did you mean');
  });

  it('refuses a --max-pages that is not a whole number from 1 to 100 (exit 2)', async () => {
    for (const bad of ['abc', '0', '-1', '2.5', '101']) {
      const t = testDeps();
      expect(
        await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--max-pages', bad], t.deps, [
          command,
        ]),
      ).toBe(EXIT.usage);
      expect(t.stderr()).toContain(`--max-pages ${JSON.stringify(bad)}`);
    }
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('fleetwarden timeline --html', () => {
  it('writes the swimlane page from the same audit records and CloudTrail events', async () => {
    ddb.on(QueryCommand).resolves({ Items: [toAuditItem(dnsDelete, { retentionDays: 400 })] });
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate, launch] });
    const t = testDeps();
    const code = await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--html', '/out/i-0abc12345.html'],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.ok);
    const html = t.files.get('/out/i-0abc12345.html') ?? '';
    expect(html).toMatch(/^<!doctype html>/);
    for (const id of [
      dnsDelete.recordId,
      'ct-describe-1',
      'ct-r53-2',
      '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
      'c1d2e3f4-run',
    ])
      expect(html).toContain(id);
    expect(html).toContain('audit table Fleetwarden-AuditTable (eu-west-1)');
    expect(html).toContain('CloudTrail: 2 events read since 2026-11-17T12:00:00Z');
    expect(html).toContain('dead-letter queues: not read');
    expect(t.stderr()).toContain('timeline: wrote /out/i-0abc12345.html');
  });

  it('writes the page from a local audit file, saying CloudTrail was not consulted', async () => {
    const t = testDeps();
    t.files.set('/r/timeline.json', JSON.stringify([dnsDelete]));
    const code = await runCli(
      [
        'node',
        'fleetwarden',
        'timeline',
        'i-0abc12345',
        '--audit-file',
        '/r/timeline.json',
        '--html',
        '/o.html',
      ],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.ok);
    expect(t.files.get('/o.html')).toContain(dnsDelete.recordId);
    expect(t.files.get('/o.html')).toContain('CloudTrail: not consulted (--audit-file /r/timeline.json)');
    expect(ct.calls()).toHaveLength(0);
  });
});

describe('fleetwarden timeline: approvals', () => {
  const P = 'fwp-d7n34i2zq6va';
  const ALICE = 'arn:aws:sts::123456789012:assumed-role/OnCall/alice';
  const SESSION = 'arn:aws:sts::123456789012:assumed-role/FleetwardenApprover/alice';
  const approved = {
    approver: ALICE,
    session: SESSION,
    decision: 'approve',
    reason: 'checked: unused',
    decidedAt: '2026-11-24T10:30:00.000Z',
    requestIds: ['sts-who-1', 'sts-assume-2', 'sts-session-3'],
  };
  const records = [
    auditRecord({
      recordId: 'orphaned-volumes:proposed',
      time: '2026-11-24T10:00:00.000Z',
      function: 'orphaned-volumes',
      action: 'approval.proposed',
      decision: 'reported',
      reason: `proposal ${P} waits for 1 approval(s)`,
      details: { proposalId: P, key: 'k', fingerprint: 'f', expiresAt: '2026-11-25T10:00:00.000Z' },
      calls: [],
      correlation: { status: 'not-applicable', attempts: 0, calls: [] },
    }),
    auditRecord({
      recordId: 'orphaned-volumes:delete',
      time: '2026-11-24T11:00:00.000Z',
      function: 'orphaned-volumes',
      action: 'volume.delete',
      decision: 'acted',
      reason: 'deleted vol-0abc',
      calls: [
        {
          service: 'EC2',
          operation: 'DeleteVolume',
          time: '2026-11-24T11:00:00.100Z',
          requestId: 'r',
          outcome: 'success',
        },
      ],
      details: { approval: { proposalId: P, by: [ALICE], decisions: [approved] } },
    }),
  ].map((r) => AuditRecordSchema.parse(r));

  it('shows the proposal, the decision and the execution in order, each with its ids (from an audit file)', async () => {
    const t = testDeps();
    t.files.set('/r/t.json', JSON.stringify(records));
    const code = await runCli(
      ['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--audit-file', '/r/t.json', '--json'],
      t.deps,
      [command],
    );
    expect(code).toBe(EXIT.ok);
    const entries = JSON.parse(t.stdout()).entries as { kind: string; summary: string; evidence: object }[];
    expect(entries.map((e) => [e.kind, e.evidence])).toEqual([
      ['decision', { recordId: 'orphaned-volumes:proposed', proposalId: P }],
      ['approval', { proposalId: P, recordId: 'orphaned-volumes:delete', requestIds: approved.requestIds }],
      ['decision', { recordId: 'orphaned-volumes:delete', proposalId: P }],
      ['aws-call', { recordId: 'orphaned-volumes:delete', requestId: 'r' }],
    ]);
    expect(entries[1]?.summary).toBe(`${P} approve by ${ALICE} (session ${SESSION}): checked: unused`);
    expect(entries[2]?.summary).toContain(`(approved: proposal ${P} by ${ALICE})`);
    const w = testDeps();
    w.files.set('/r/t.json', JSON.stringify(records));
    await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--audit-file', '/r/t.json'], w.deps, [
      command,
    ]);
    expect(w.stdout()).toMatch(
      /10:30:00Z {2}approval {4}fwp-d7n34i2zq6va approve by alice \(role OnCall\).* proposal=fwp-d7n34i2zq6va/,
    );
  });

  it('adds the decisions of the decisions table when it is reachable (a rejection the records do not carry)', async () => {
    ddb.on(QueryCommand).resolves({ Items: records.map((r) => toAuditItem(r, { retentionDays: 400 })) });
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    const t = testDeps(undefined, { FLEETWARDEN_DECISIONS_TABLE: 'Fleetwarden-Decisions' });
    const carol = {
      proposalId: P,
      fingerprint: 'f',
      decision: 'reject' as const,
      reason: 'too late',
      approver: {
        arn: 'arn:aws:iam::123456789012:user/carol',
        sessionArn: SESSION.replace('alice', 'carol'),
        account: '123456789012',
      },
      decidedAt: '2026-11-24T10:45:00.000Z',
      requestIds: ['sts-9'],
    };
    const alice = {
      ...carol,
      decision: 'approve' as const,
      reason: approved.reason,
      decidedAt: approved.decidedAt,
      approver: { arn: ALICE, sessionArn: SESSION, account: '123456789012' },
      requestIds: approved.requestIds,
    };
    for (const d of [carol, alice]) await t.approvals.decisions.as(d.approver.sessionArn).decide(d);
    expect(
      await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345', '--json'], t.deps, [command]),
    ).toBe(EXIT.ok);
    const entries = JSON.parse(t.stdout()).entries as { kind: string; summary: string; time: string }[];
    expect(
      entries.filter((e) => e.kind === 'approval').map((e) => [e.time, e.summary.split(': ')[0]]),
    ).toEqual([
      [approved.decidedAt, `${P} approve by ${ALICE} (session ${SESSION})`],
      [carol.decidedAt, `${P} reject by ${carol.approver.arn} (session ${carol.approver.sessionArn})`],
    ]);
    expect(t.approvals.opened).toEqual(['decisions:Fleetwarden-Decisions']);
  });

  it('prints the rest and says DECISIONS TABLE NOT READ (exit 7) when the decisions table cannot be read', async () => {
    ddb.on(QueryCommand).resolves({ Items: records.map((r) => toAuditItem(r, { retentionDays: 400 })) });
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    const t = testDeps(undefined, { FLEETWARDEN_DECISIONS_TABLE: 'Fleetwarden-Decisions' });
    t.approvals.decisions.failNext(
      Object.assign(new Error('not authorized to perform: dynamodb:Query'), {
        name: 'AccessDeniedException',
      }),
    );
    expect(await runCli(['node', 'fleetwarden', 'timeline', 'i-0abc12345'], t.deps, [command])).toBe(
      EXIT.incomplete,
    );
    expect(t.stdout()).toContain('DECISIONS TABLE NOT READ: Query Fleetwarden-Decisions in eu-west-1');
    expect(t.stdout()).toContain('proposal=fwp-d7n34i2zq6va');
    expect(t.stderr()).toContain('approvals: not read: Query Fleetwarden-Decisions in eu-west-1 failed');
  });
});
