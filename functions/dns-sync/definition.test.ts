import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import type { ApplyPolicy } from '../../shared/dns/apply';
import { InvalidChangeBatchError } from '../../shared/dns/errors';
import { InMemoryRoute53 } from '../../shared/dns/in-memory-route53';
import type { MessageRetry } from '../../shared/dns/message-retry';
import type { DnsOptIn } from '../../shared/dns/opt-in';
import type { Route53Port } from '../../shared/dns/port';
import { sqsRecord, stateChangeEvent, tagChangeEvent } from '../../shared/dns/testing/state-change-event';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import type { InstanceState } from '../../shared/ec2/port';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { ungatedScopedLambdaHandler } from '../../shared/kernel/scoped-lambda-handler';
import { envSchema } from '../../shared/kernel/settings';
import { dnsSync } from './definition';

const DnsSyncEnv = envSchema(dnsSync.settings);
type DnsSyncDeps = {
  route53: Route53Port;
  retryLater: MessageRetry;
  optIn: Omit<DnsOptIn, 'nameTag'>;
  dryRun: boolean;
};

const T0 = Date.parse('2026-11-24T10:00:00Z');
const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const policy: ApplyPolicy = {
  maxAttempts: 3,
  baseMs: 1,
  capMs: 2,
  sleep: async () => undefined,
  random: () => 0,
};

const stateChange = (n: number, state: InstanceState, atMs: number, eventId?: string) =>
  stateChangeEvent(id(n), state, atMs, eventId);
const sqs = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, k) => sqsRecord(body, `m-${k}`, T0) as SQSRecord),
});

/** The fleet tag: opts an instance without a name tag in (named after its id). */
const FLEET = { 'fleetwarden:fleet': 'runners' };

function setup(over: Partial<DnsSyncDeps> = {}) {
  let now = T0 + 5000;
  const route53 = new InMemoryRoute53().addZone('ZFWD', 'example.com').addZone('ZREV', '10.in-addr.arpa');
  const inventory = new InMemoryInstanceInventory({ now: () => now });
  const audit = new InMemoryAuditSink();
  for (let n = 1; n <= 5; n++) {
    inventory.put({
      instanceId: id(n),
      state: 'running',
      privateIp: `10.0.0.${n}`,
      tags: { 'fleetwarden:dns-name': `h${n}` },
    });
  }
  now += 1;
  const optIn = over.optIn ?? { fleetTag: { key: 'fleetwarden:fleet', value: 'runners' } };
  // one warm Lambda container (Lambda runs up to the construct's maximum concurrency of them)
  const container = () =>
    dnsSync.create(
      {
        route53: over.route53 ?? route53,
        inventory,
        audit,
        messageRetry: over.retryLater ?? { after: async () => undefined },
        pacing: policy,
      },
      {
        auditTable: 't',
        hostedZoneId: 'ZFWD',
        zoneName: 'example.com',
        zones: undefined,
        dnsRoleName: undefined,
        reverseZoneId: 'ZREV',
        reverseZoneName: '10.in-addr.arpa',
        ownerId: 'prod',
        ttl: 60,
        publishPublicIp: false,
        nameTag: 'fleetwarden:dns-name',
        fleetTagKey: optIn.fleetTag?.key,
        fleetTagValue: optIn.fleetTag?.value,
        autoScalingGroupNames: optIn.autoScalingGroupNames ?? [],
        dryRun: over.dryRun ?? false,
        absentAfter: 900,
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetwarden-dns-sync',
      },
      { now: () => new Date(now), gate: REPORT_ONLY_GATE },
    );
  const handler = container();
  return { handler, container, route53, inventory, audit, advance: (ms: number) => (now += ms) };
}

const ENV = {
  [AUDIT_TABLE_ENV]: 't',
  HOSTED_ZONE_ID: 'Z',
  ZONE_NAME: 'example.com',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetwarden-dns-sync',
};

describe('DnsSyncEnv', () => {
  it.each([['0'], ['86401']])('refuses RECORD_TTL %s (the construct allows 1 to 86400)', (ttl) => {
    const env = { ...ENV, RECORD_TTL: ttl };
    expect(DnsSyncEnv.safeParse(env).success).toBe(false);
    expect(DnsSyncEnv.safeParse({ ...env, RECORD_TTL: '86400' }).success).toBe(true);
  });

  it("requires QUEUE_URL (the construct's queue URL; the lag retry never builds one from the ARN)", () => {
    const { QUEUE_URL: _url, ...rest } = ENV;
    expect(DnsSyncEnv.safeParse(rest).success).toBe(false);
    expect(DnsSyncEnv.safeParse(ENV).success).toBe(true);
  });
});

describe('dns-sync handler', () => {
  it('writes a batch of events with one ChangeResourceRecordSets per zone and audits each decision', async () => {
    const s = setup();
    const out = await s.handler(sqs([1, 2, 3].map((n) => stateChange(n, 'running', T0))));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.changeRequests.map((r) => r.zoneId)).toEqual(['ZFWD', 'ZREV']);
    expect(
      s.route53
        .records('ZFWD')
        .filter((r) => r.type === 'A')
        .map((r) => r.name),
    ).toEqual(['h1.example.com.', 'h2.example.com.', 'h3.example.com.']);
    const decisions = s.audit.all().filter((r) => r.action === 'dns.upsert');
    expect(decisions).toHaveLength(3);
    expect(decisions[0]).toMatchObject({
      function: 'dns-sync',
      decision: 'acted',
      mode: 'live',
      trigger: { source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
      subject: { instanceId: id(1), recordName: 'h1.example.com.' },
    });
    const batch = s.audit.all().find((r) => r.action === 'dns.change-batch');
    expect(batch?.details).toMatchObject({
      requests: [expect.objectContaining({ zoneId: 'ZFWD' }), expect.objectContaining({ zoneId: 'ZREV' })],
    });
  });

  it('two warm containers: a late running never publishes past a tombstone the other container wrote', async () => {
    // Lambda runs dns-sync in up to two containers at once, each with its own module state
    const s = setup();
    const a = s.container();
    const b = s.container();
    // container A sees the instance's names empty (a name-tag change before the running is processed)
    const tag = tagChangeEvent(id(1), ['fleetwarden:dns-name'], { 'fleetwarden:dns-name': 'h1' }, T0);
    expect((await a(sqs([tag]))).batchItemFailures).toEqual([]);
    // container B gets the stop first (reordered): no record yet, so a tombstone at the id slot
    s.inventory.put({
      instanceId: id(1),
      state: 'stopped',
      privateIp: '10.0.0.1',
      tags: { 'fleetwarden:dns-name': 'h1' },
      stateChangedAt: new Date(T0 + 60_000).toISOString(),
    });
    s.advance(1);
    await b(sqs([stateChange(1, 'stopped', T0 + 60_000)]));
    expect(s.route53.records('ZFWD').map((r) => r.name)).toEqual([`_fleetwarden.${id(1)}.example.com.`]);
    // the running event, older than the stop, reaches container A: stale, nothing is published
    s.advance(1);
    const late = await a(sqs([stateChange(1, 'running', T0 + 30_000, 'late-running')]));
    expect(late.batchItemFailures).toEqual([]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([]);
    expect(s.audit.all().find((r) => r.trigger.id === 'late-running')).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('stale'),
    });
  });

  it('removes records on terminate even though DescribeInstances shows no IP, and a late running changes nothing', async () => {
    const s = setup();
    await s.handler(sqs([stateChange(1, 'running', T0)]));
    s.inventory.setState(id(1), 'terminated');
    s.advance(1);
    await s.handler(sqs([stateChange(1, 'terminated', T0 + 60_000)]));
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([]);
    expect(s.route53.records('ZREV')).toEqual([]);
    const before = s.route53.changeRequests.length;
    const late = await s.handler(sqs([stateChange(1, 'running', T0 + 30_000, 'late-running')]));
    expect(late.batchItemFailures).toEqual([]);
    expect(s.route53.changeRequests.length).toBe(before);
    expect(s.audit.all().find((r) => r.trigger.id === 'late-running')).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('stale'),
    });
  });

  it('keeps the newest event of an instance in a batch and audits the others as superseded', async () => {
    const s = setup();
    await s.handler(sqs([stateChange(2, 'running', T0)]));
    s.inventory.setState(id(2), 'stopped');
    s.advance(1);
    const out = await s.handler(
      sqs([
        stateChange(2, 'stopping', T0 + 1000, 'stopping-1'),
        stateChange(2, 'stopped', T0 + 2000, 'stopped'),
        stateChange(2, 'stopping', T0 + 1000, 'stopping-2'),
      ]),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([]);
    const superseded = s.audit.all().filter((r) => r.reason.includes('superseded'));
    // both stopping deliveries (m-0, m-2), each under its own record, name the winning stopped event
    expect(superseded.map((r) => r.trigger.id).sort()).toEqual(['stopping-1', 'stopping-2']);
    for (const r of superseded) {
      expect(r).toMatchObject({ decision: 'skipped', subject: { instanceId: id(2) } });
      expect(r.reason).toContain('stopped');
    }
    expect(s.audit.all().find((r) => r.trigger.id === 'stopped')).toMatchObject({ decision: 'acted' });
  });

  it('fails only the message whose instance DescribeInstances does not show yet (retried by SQS)', async () => {
    const s = setup();
    const out = await s.handler(sqs([stateChange(1, 'running', T0), stateChange(9, 'running', T0)]));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toHaveLength(1);
    expect(s.audit.all().find((r) => r.subject.instanceId === id(9))).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('InstanceFactsUnavailableError'),
    });
  });

  it('brings a message back after 20 s, not the 360 s visibility timeout, the first time DescribeInstances lags', async () => {
    const delays: { messageId: string; queueArn: string; seconds: number }[] = [];
    const s = setup({
      retryLater: {
        after: async (m, seconds) => {
          delays.push({ messageId: m.messageId, queueArn: m.eventSourceARN, seconds });
        },
      },
    });
    const event = sqs([stateChange(1, 'running', T0), stateChange(9, 'running', T0)]);
    const out = await s.handler(event);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(delays).toEqual([
      { messageId: 'm-1', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:fleetwarden-dns-sync', seconds: 20 },
    ]);
    // from the second receive on, the queue's own visibility timeout paces the retries (so a message
    // still reaches ABSENT_AFTER_SECONDS and is skipped, not dead-lettered)
    const again = sqs([stateChange(9, 'running', T0)]);
    (again.Records[0] as SQSRecord).attributes.ApproximateReceiveCount = '2';
    await s.handler(again);
    expect(delays).toHaveLength(1);
  });

  it('skips (does not retry forever) a running event for an instance gone for longer than the window', async () => {
    const s = setup();
    s.advance(3_600_000);
    const out = await s.handler(sqs([stateChange(9, 'running', T0)]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.audit.all()[0]).toMatchObject({ decision: 'skipped' });
  });

  it('fails a malformed message alone and leaves a failed audit record for it, naming the message', async () => {
    const s = setup();
    const out = await s.handler(
      sqs([
        'not json',
        { ...stateChange(1, 'running', T0), detail: { 'instance-id': 'x', state: 'running' } },
        stateChange(2, 'running', T0),
      ]),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toHaveLength(1);
    const malformed = s.audit.all().filter((r) => r.action === 'dns.malformed-message');
    expect(malformed.map((r) => [r.trigger.id, r.decision])).toEqual([
      ['m-0', 'failed'],
      ['m-1', 'failed'],
    ]);
    expect(malformed[0]?.reason).toContain('MalformedEventError');
    expect(malformed[0]?.reason).toContain('m-0');
  });

  it('refuses a bad name tag with an audit entry and does not retry', async () => {
    const s = setup();
    s.inventory.put({
      instanceId: id(4),
      state: 'running',
      privateIp: '10.0.0.4',
      tags: { 'fleetwarden:dns-name': '*.evil.org' },
    });
    s.advance(1);
    const out = await s.handler(sqs([stateChange(4, 'running', T0)]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.changeRequests).toEqual([]);
    expect(s.audit.all().find((r) => r.action === 'dns.upsert')).toMatchObject({
      decision: 'refused',
      reason: expect.stringContaining('wildcard'),
    });
  });

  it('returns every acting message to the queue when Route 53 stays throttled', async () => {
    const s = setup();
    s.route53.failNext('Throttling', 1);
    s.route53.failNext('PriorRequestNotComplete', 10);
    const out = await s.handler(sqs([stateChange(1, 'running', T0), stateChange(2, 'running', T0)]));
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-0', 'm-1']);
    expect(
      s.audit
        .all()
        .filter((r) => r.decision === 'failed')
        .map((r) => r.reason),
    ).toEqual(expect.arrayContaining([expect.stringContaining('ThrottledError')]));
  });

  it('keeps the record of a failed attempt when SQS redelivers the message (attempt 2 has its own)', async () => {
    const s = setup();
    s.route53.failNext('PriorRequestNotComplete', policy.maxAttempts);
    const first = sqs([stateChange(1, 'running', T0)]);
    expect((await s.handler(first)).batchItemFailures).toHaveLength(1);
    const again = sqs([stateChange(1, 'running', T0)]);
    (again.Records[0] as SQSRecord).attributes.ApproximateReceiveCount = '2';
    expect((await s.handler(again)).batchItemFailures).toEqual([]);
    const byAction = (action: string) =>
      s.audit
        .all()
        .filter((r) => r.action === action)
        .map((r) => r.decision);
    expect(byAction('dns.change-batch')).toEqual(['failed', 'acted']);
    expect(byAction('dns.upsert')).toEqual(['failed', 'acted']);
  });

  it('keeps the batch record of the delivery that acted when an EventBridge duplicate (new SQS message) finds the work done', async () => {
    const s = setup();
    const event = stateChange(1, 'running', T0, 'ev-dup');
    expect((await s.handler(sqs([event]))).batchItemFailures).toEqual([]);
    const dup = sqs([event]);
    (dup.Records[0] as SQSRecord).messageId = 'm-dup';
    expect((await s.handler(dup)).batchItemFailures).toEqual([]);
    const batches = s.audit.all().filter((r) => r.action === 'dns.change-batch');
    expect(batches.map((r) => r.decision).sort()).toEqual(['acted', 'skipped']);
    // the acted record keeps the evidence of the change it sent
    expect(batches.find((r) => r.decision === 'acted')?.details?.requests).toHaveLength(2); // A + PTR
  });

  it('fails only the messages of the instance whose change Route 53 rejects; the rest of the batch is written', async () => {
    const fake = new InMemoryRoute53().addZone('ZFWD', 'example.com').addZone('ZREV', '10.in-addr.arpa');
    const s = setup({
      route53: {
        listRecordSets: (z) => fake.listRecordSets(z),
        listPage: (z, start, max) => fake.listPage(z, start, max),
        changeRecordSets: async (z, c) => {
          if (c.some((x) => x.record.name === 'h3.example.com.'))
            throw new InvalidChangeBatchError(["Invalid Resource Record: 'FATAL problem: something new'"]);
          return fake.changeRecordSets(z, c);
        },
      },
    });
    const out = await s.handler(sqs([1, 2, 3, 4].map((n) => stateChange(n, 'running', T0))));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(
      fake
        .records('ZFWD')
        .filter((r) => r.type === 'A')
        .map((r) => r.name),
    ).toEqual(['h1.example.com.', 'h2.example.com.', 'h4.example.com.']);
    // no PTR for the instance whose A failed
    expect(fake.records('ZREV').filter((r) => r.type === 'PTR')).toHaveLength(3);
    expect(s.audit.all().find((r) => r.subject.instanceId === id(3))).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('InvalidChangeBatch'),
    });
  });

  it("does not retry Route 53 past the invocation's time budget (context.getRemainingTimeInMillis)", async () => {
    const s = setup();
    s.route53.failNext('Throttling', 1);
    const context = { getRemainingTimeInMillis: () => 5_000 } as Context;
    const out = await s.handler(sqs([stateChange(1, 'running', T0)]), context);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
    expect(s.audit.all().find((r) => r.action === 'dns.change-batch')).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('no time left'),
    });
  });

  it('moves the record when the name tag arrives after launch (Tag Change on Resource), without waiting for reconcile', async () => {
    const s = setup();
    s.inventory.put({ instanceId: id(6), state: 'running', privateIp: '10.0.0.6', tags: FLEET });
    s.advance(1);
    await s.handler(sqs([stateChange(6, 'running', T0)]));
    expect(
      s.route53
        .records('ZFWD')
        .filter((r) => r.type === 'A')
        .map((r) => r.name),
    ).toEqual([`${id(6)}.example.com.`]);
    // DescribeInstances may still show the old tags: the event's own tag set names the record
    const tagged = tagChangeEvent(
      id(6),
      ['fleetwarden:dns-name'],
      { ...FLEET, 'fleetwarden:dns-name': 'late' },
      T0 + 30_000,
    );
    const out = await s.handler(sqs([tagged]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([
      { name: 'late.example.com.', type: 'A', ttl: 60, values: ['10.0.0.6'] },
    ]);
    expect(s.audit.all().find((r) => r.trigger.id === tagged.id)).toMatchObject({
      action: 'dns.upsert',
      decision: 'acted',
      trigger: { source: 'aws.tag', detailType: 'Tag Change on Resource' },
    });
  });

  it('publishes under the tagged name when the running event and the tag change share a batch', async () => {
    const s = setup();
    s.inventory.put({ instanceId: id(6), state: 'running', privateIp: '10.0.0.6', tags: FLEET });
    s.advance(1);
    const tagged = tagChangeEvent(
      id(6),
      ['fleetwarden:dns-name'],
      { ...FLEET, 'fleetwarden:dns-name': 'late' },
      T0 + 3000,
    );
    const out = await s.handler(sqs([stateChange(6, 'running', T0), tagged]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([
      { name: 'late.example.com.', type: 'A', ttl: 60, values: ['10.0.0.6'] },
    ]);
    expect(
      s.audit
        .all()
        .filter((r) => r.action === 'dns.upsert')
        .map((r) => [r.trigger.source, r.decision, r.reason.split(' ')[0]]),
    ).toEqual([
      ['aws.ec2', 'skipped', 'superseded'],
      ['aws.tag', 'acted', 'A'],
    ]);
  });

  it('a tag change does not bring back the record of an instance that stopped (DescribeInstances lagging)', async () => {
    const s = setup();
    await s.handler(sqs([stateChange(1, 'running', T0)]));
    s.inventory.setState(id(1), 'stopped');
    s.advance(1);
    await s.handler(sqs([stateChange(1, 'stopped', T0 + 10_000)]));
    // a lagging DescribeInstances replica still shows it running with its IP
    s.inventory.setState(id(1), 'running');
    s.advance(1);
    const tagged = tagChangeEvent(
      id(1),
      ['fleetwarden:dns-name'],
      { 'fleetwarden:dns-name': 'h1b' },
      T0 + 20_000,
    );
    const out = await s.handler(sqs([tagged]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([]);
    expect(s.audit.all().find((r) => r.trigger.id === tagged.id)).toMatchObject({ decision: 'skipped' });
  });

  it('ignores a tag change on an instance that is not running (the running event will use the tags)', async () => {
    const s = setup();
    s.inventory.setState(id(2), 'stopped');
    s.advance(1);
    const out = await s.handler(
      sqs([tagChangeEvent(id(2), ['fleetwarden:dns-name'], { 'fleetwarden:dns-name': 'x' }, T0)]),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.changeRequests).toEqual([]);
    expect(s.audit.all()[0]).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('stopped'),
    });
  });

  describe('who gets a name', () => {
    const aNames = (s: ReturnType<typeof setup>) =>
      s.route53
        .records('ZFWD')
        .filter((r) => r.type === 'A')
        .map((r) => r.name);

    it("refuses a second claimant of a stopped holder's name (audited); the holder gets it back", async () => {
      const s = setup();
      await s.handler(sqs([stateChange(1, 'running', T0)]));
      s.inventory.setState(id(1), 'stopped');
      s.inventory.put({
        instanceId: id(8),
        state: 'running',
        privateIp: '10.0.0.8',
        tags: { 'fleetwarden:dns-name': 'h1' },
      });
      s.advance(1);
      await s.handler(sqs([stateChange(1, 'stopped', T0 + 10_000)]));
      const out = await s.handler(sqs([stateChange(8, 'running', T0 + 20_000, 'claimant')]));
      expect(out.batchItemFailures).toEqual([]);
      expect(aNames(s)).toEqual([]);
      expect(s.audit.all().find((r) => r.trigger.id === 'claimant')).toMatchObject({
        action: 'dns.upsert',
        decision: 'refused',
        reason: expect.stringContaining(`held by ${id(1)} (stopped`),
      });
      s.inventory.setState(id(1), 'running');
      s.advance(1);
      await s.handler(sqs([stateChange(1, 'running', T0 + 30_000)]));
      expect(s.route53.records('ZFWD').filter((r) => r.type === 'A')).toEqual([
        { name: 'h1.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] },
      ]);
    });

    it('publishes only instances that opt in: name tag, fleet tag or a configured Auto Scaling group', async () => {
      const s = setup({
        optIn: {
          fleetTag: { key: 'fleetwarden:fleet', value: 'runners' },
          autoScalingGroupNames: ['ci-asg'],
        },
      });
      const put = (n: number, tags: Record<string, string>) =>
        s.inventory.put({ instanceId: id(n), state: 'running', privateIp: `10.0.0.${n}`, tags });
      put(6, {}); // nobody's
      put(7, { 'fleetwarden:fleet': 'runners' });
      put(8, { 'aws:autoscaling:groupName': 'ci-asg' });
      put(9, { 'aws:autoscaling:groupName': 'someone-elses-asg', 'fleetwarden:fleet': 'other' });
      s.advance(1);
      const out = await s.handler(sqs([1, 6, 7, 8, 9].map((n) => stateChange(n, 'running', T0))));
      expect(out.batchItemFailures).toEqual([]);
      expect(aNames(s)).toEqual(['h1.example.com.', `${id(7)}.example.com.`, `${id(8)}.example.com.`]);
      for (const n of [6, 9]) {
        expect(s.audit.all().find((r) => r.subject.instanceId === id(n))).toMatchObject({
          decision: 'skipped',
          reason: expect.stringContaining('not opted in'),
        });
      }
      // leaving again, a non-opted-in instance leaves nothing behind either (no tombstone)
      s.inventory.setState(id(6), 'terminated');
      s.advance(1);
      const before = s.route53.changeRequests.length;
      await s.handler(sqs([stateChange(6, 'terminated', T0 + 10_000)]));
      expect(s.route53.changeRequests.length).toBe(before);
    });
  });

  describe('message contents are hints, not facts', () => {
    const aRecords = (s: ReturnType<typeof setup>) =>
      s.route53
        .records('ZFWD')
        .filter((r) => r.type === 'A')
        .map((r) => `${r.name} ${r.values.join(',')}`);
    const receive = (event: SQSEvent, count: number) => {
      for (const r of event.Records) r.attributes.ApproximateReceiveCount = String(count);
      return event;
    };

    it('refuses a future-dated terminated: it never tombstones the live record (audited, not retried)', async () => {
      const s = setup();
      await s.handler(sqs([stateChange(1, 'running', T0)]));
      // the instance really is terminated: only the date gives the message away
      s.inventory.setState(id(1), 'terminated');
      s.advance(1);
      const forged = stateChange(1, 'terminated', T0 + 3_600_000, 'forged-future');
      const out = await s.handler(sqs([forged]));
      expect(out.batchItemFailures).toEqual([]);
      expect(aRecords(s)).toEqual(['h1.example.com. 10.0.0.1']);
      const marker = s.route53.records('ZFWD').find((r) => r.name === '_fleetwarden.h1.example.com.');
      expect(marker?.values[0]).toContain('running');
      expect(s.audit.all().find((r) => r.trigger.id === 'forged-future')).toMatchObject({
        action: 'dns.delete',
        decision: 'refused',
        reason: expect.stringContaining('future'),
      });
      // a real terminated event afterwards still removes the record: the forged one left no trace
      await s.handler(sqs([stateChange(1, 'terminated', T0 + 60_000)]));
      expect(aRecords(s)).toEqual([]);
    });

    it('accepts an event up to 5 minutes ahead of its clock (skew), not more', async () => {
      const s = setup();
      await s.handler(sqs([stateChange(1, 'running', T0)]));
      s.inventory.setState(id(1), 'stopped');
      s.advance(1);
      await s.handler(sqs([stateChange(1, 'stopped', T0 + 5000 + 4 * 60_000)]));
      expect(aRecords(s)).toEqual([]);
    });

    it('refuses a forged terminated for an instance DescribeInstances shows running; the record stays', async () => {
      const delays: number[] = [];
      const s = setup({ retryLater: { after: async (_m, seconds) => void delays.push(seconds) } });
      await s.handler(sqs([stateChange(1, 'running', T0)]));
      const forged = () => sqs([stateChange(1, 'terminated', T0 + 2000, 'forged-running')]);
      // first receive: DescribeInstances may merely lag behind a real stop: one quick retry
      const first = await s.handler(forged());
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
      expect(delays).toEqual([20]);
      expect(aRecords(s)).toEqual(['h1.example.com. 10.0.0.1']);
      // still running on the retry: refused, audited, and the message succeeds (no DLQ)
      const again = await s.handler(receive(forged(), 2));
      expect(again.batchItemFailures).toEqual([]);
      expect(aRecords(s)).toEqual(['h1.example.com. 10.0.0.1']);
      const records = s.audit.all().filter((r) => r.trigger.id === 'forged-running');
      expect(records.map((r) => r.decision)).toEqual(['failed', 'refused']);
      expect(records[1]?.reason).toContain('running');
    });

    it('refuses a terminated for an instance DescribeInstances shows stopped (only stopped is confirmed)', async () => {
      const s = setup();
      await s.handler(sqs([stateChange(1, 'running', T0)]));
      s.inventory.setState(id(1), 'stopped');
      s.advance(1);
      const out = await s.handler(receive(sqs([stateChange(1, 'terminated', T0 + 2000, 'forged')]), 2));
      expect(out.batchItemFailures).toEqual([]);
      expect(s.audit.all().find((r) => r.trigger.id === 'forged')).toMatchObject({ decision: 'refused' });
      const marker = s.route53.records('ZFWD').find((r) => r.name === '_fleetwarden.h1.example.com.');
      expect(marker?.values[0]).not.toContain('terminated');
    });

    it.each(['shutting-down', 'stopped'] as const)(
      "a forged running (newer) cannot outvote a genuine %s: DescribeInstances' state decides, not its IP",
      async (leaving) => {
        const s = setup();
        await s.handler(sqs([stateChange(1, 'running', T0)]));
        s.inventory.setState(id(1), leaving);
        s.advance(60_000);
        // the instance keeps its private IP while shutting down or stopped
        const out = await s.handler(
          sqs([
            stateChange(1, leaving, T0 + 50_000, 'genuine'),
            stateChange(1, 'running', T0 + 55_000, 'forged'),
          ]),
        );
        expect(out.batchItemFailures).toEqual(leaving === 'stopped' ? [{ itemIdentifier: 'm-1' }] : []);
        expect(aRecords(s)).toEqual([]);
        expect(s.audit.all().find((r) => r.trigger.id === 'genuine')).toMatchObject({ decision: 'acted' });
      },
    );

    it("skips a leaving event older than the instance's current launch (it was started again)", async () => {
      const s = setup();
      s.inventory.put({
        instanceId: id(7),
        state: 'running',
        privateIp: '10.0.0.7',
        tags: { 'fleetwarden:dns-name': 'h7' },
        launchTime: new Date(T0 + 3000).toISOString(),
      });
      s.advance(1);
      await s.handler(sqs([stateChange(7, 'running', T0 + 3000)]));
      const out = await s.handler(sqs([stateChange(7, 'stopped', T0 + 1000, 'old-stop')]));
      expect(out.batchItemFailures).toEqual([]);
      expect(aRecords(s)).toEqual(['h7.example.com. 10.0.0.7']);
      expect(s.audit.all().find((r) => r.trigger.id === 'old-stop')).toMatchObject({ decision: 'skipped' });
    });

    it('retries a leaving event of an instance DescribeInstances does not show, and counts it gone only after the absence window', async () => {
      const s = setup();
      const young = await s.handler(sqs([stateChange(9, 'terminated', T0)]));
      expect(young.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
      s.advance(3_600_000);
      const old = await s.handler(receive(sqs([stateChange(9, 'terminated', T0)]), 5));
      expect(old.batchItemFailures).toEqual([]);
    });
  });

  it('in dry-run mode writes nothing and reports what it would do', async () => {
    const s = setup({ dryRun: true });
    const out = await s.handler(sqs([stateChange(1, 'running', T0)]));
    expect(out.batchItemFailures).toEqual([]);
    expect(s.route53.changeRequests).toEqual([]);
    expect(s.audit.all().find((r) => r.action === 'dns.upsert')).toMatchObject({
      decision: 'reported',
      mode: 'dry-run',
    });
  });

  it('fails the messages when the audit record cannot be written', async () => {
    const s = setup();
    s.audit.failNextWrites(10);
    const out = await s.handler(sqs([stateChange(1, 'running', T0)]));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
  });
});

describe('dns-sync across scopes, wired like the Lambda entry (hub and a spoke)', () => {
  const HUB = { account: '111111111111', region: 'eu-west-1' };
  const SPOKE = { account: '222222222222', region: 'us-east-1' };
  const topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };
  const X = id(1);

  function scoped() {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0 + 5_000);
    for (const [k, v] of Object.entries({
      ...ENV,
      REVERSE_ZONE_ID: 'ZREV',
      REVERSE_ZONE_NAME: '10.in-addr.arpa',
      FLEET_TAG_KEY: 'fleetwarden:fleet',
      FLEET_TAG_VALUE: 'runners',
    }))
      vi.stubEnv(k, v);
    const route53 = new InMemoryRoute53().addZone('Z', 'example.com').addZone('ZREV', '10.in-addr.arpa');
    const inventories = new Map(
      [HUB, SPOKE].map((s) => [s.account, new InMemoryInstanceInventory({ now: () => Date.now() - 1_000 })]),
    );
    const audit = new InMemoryAuditSink();
    const handler = ungatedScopedLambdaHandler(
      dnsSync,
      (_settings, scope) => ({
        audit,
        route53,
        inventory: inventories.get((scope ?? HUB).account) as InMemoryInstanceInventory,
        messageRetry: { after: async () => undefined },
        pacing: policy,
      }),
      { topology: () => topology },
    );
    const send = (messageId: string, scope: typeof HUB, state: InstanceState, at: number) =>
      handler(
        {
          Records: [
            sqsRecord({ ...stateChange(1, state, at, `ev-${messageId}`), ...scope }, messageId, Date.now()),
          ],
        } as SQSEvent,
        {} as Context,
      );
    const records = () =>
      route53
        .records('Z')
        .concat(route53.records('ZREV'))
        .filter((r) => r.type === 'A' || r.type === 'PTR')
        .map((r) => `${r.type} ${r.name}`);
    const home = (s: typeof HUB) => inventories.get(s.account) as InMemoryInstanceInventory;
    return { send, records, audit, home };
  }
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it.each([
    ['a spoke', 'the hub', SPOKE, HUB],
    ['the hub', 'a spoke', HUB, SPOKE],
  ])(
    "refuses %s's stale terminated for %s's live instance (not in the claimed scope): records stay",
    async (_claimant, _owner, claimed, owner) => {
      const s = scoped();
      s.home(owner).put({
        instanceId: X,
        state: 'running',
        privateIp: '10.0.0.1',
        tags: FLEET,
      });
      await s.send('m-genuine', owner, 'running', T0);
      expect(s.records()).toEqual([`A ${X}.example.com.`, 'PTR 1.0.0.10.in-addr.arpa.']);
      vi.setSystemTime(T0 + 30 * 60_000);
      // forged: "X terminated" in the claimed scope, dated 20 min ago (past ABSENT_AFTER_SECONDS)
      const out = await s.send('m-forged', claimed, 'terminated', Date.now() - 20 * 60_000);
      expect(out).toEqual({ batchItemFailures: [] });
      expect(s.records()).toEqual([`A ${X}.example.com.`, 'PTR 1.0.0.10.in-addr.arpa.']);
      const forged = s.audit.all().filter((r) => r.trigger.id === 'ev-m-forged');
      expect(forged.map((r) => [r.action, r.decision, r.details.refusal])).toEqual([
        ['dns.delete', 'refused', 'trust.instance-in-another-scope'],
      ]);
    },
  );

  it('still counts an instance gone that no scope shows, once the absence window has passed', async () => {
    const s = scoped();
    s.home(HUB).put({
      instanceId: X,
      state: 'running',
      privateIp: '10.0.0.1',
      tags: FLEET,
    });
    await s.send('m-genuine', HUB, 'running', T0);
    s.home(HUB).setState(X, 'terminated');
    // terminated instances stay describable about an hour; this one is past it, in every scope
    vi.setSystemTime(T0 + 3 * 3_600_000);
    const out = await s.send('m-late', HUB, 'terminated', Date.now() - 20 * 60_000);
    expect(out).toEqual({ batchItemFailures: [] });
    expect(s.records()).toEqual([]);
  });
});
