import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { auditSinkInScope } from '../../shared/audit/scoped-sink';
import { type AwsScope, sameScope, type Topology } from '../../shared/aws/scope';
import type { ApplyPolicy } from '../../shared/dns/apply';
import { Route53BusyError, Route53Error } from '../../shared/dns/errors';
import { InMemoryRoute53 } from '../../shared/dns/in-memory-route53';
import type { Route53Port } from '../../shared/dns/port';
import { sqsRecord, stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import type { InstanceState } from '../../shared/ec2/port';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { portsFollowingScope } from '../../shared/kernel/scope-following';
import { routeByScope } from '../../shared/kernel/scope-routing';
import { wholeBatch } from '../../shared/kernel/whole-batch';
import { dnsSync } from './definition';

/**
 * dns-sync's whole batch across scopes (scopeBatches 'whole'), wired as the Lambda entry wires it:
 * routeByScope + wholeBatch, ports following each message's scope, one Route 53 (the hub's).
 */
const HUB = { account: '111111111111', region: 'eu-west-1' };
const SPOKE = { account: '222222222222', region: 'us-east-1' };
const topology: Topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };
const T0 = Date.parse('2026-11-30T10:00:00Z');
const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const policy: ApplyPolicy = {
  maxAttempts: 3,
  baseMs: 1,
  capMs: 2,
  sleep: async () => undefined,
  random: () => 0,
};
const NAME_TAG = 'fleetwarden:dns-name';

/** A message about instance `n` in `scope` (its event id: `eventId`). */
const message = (
  messageId: string,
  scope: AwsScope,
  n: number,
  o: { state?: InstanceState; eventId?: string; attempt?: number; at?: number } = {},
): SQSRecord => {
  const body = {
    ...stateChangeEvent(id(n), o.state ?? 'running', o.at ?? T0, o.eventId),
    account: scope.account,
    region: scope.region,
  };
  const r = sqsRecord(body, messageId, T0) as SQSRecord;
  r.attributes.ApproximateReceiveCount = String(o.attempt ?? 1);
  return r;
};

/** Hub instance 1 (h1.hub.example.com), spoke instance 2 (s2.spoke.example.com): each exists in its own scope only. */
function world(o: { route53?: (fake: InMemoryRoute53) => Route53Port; topology?: boolean } = {}) {
  const now = T0 + 5_000;
  const fake = new InMemoryRoute53()
    .addZone('ZHUB', 'hub.example.com')
    .addZone('ZSPOKE', 'spoke.example.com')
    .addZone('ZREV', '10.in-addr.arpa');
  const inventories = new Map<AwsScope, InMemoryInstanceInventory>();
  for (const [scope, n, name] of [
    [HUB, 1, 'h1.hub.example.com'],
    [SPOKE, 2, 's2.spoke.example.com'],
  ] as const) {
    const inventory = new InMemoryInstanceInventory({ now: () => now - 1_000 });
    inventory.put({
      instanceId: id(n),
      state: 'running',
      privateIp: `10.0.0.${n}`,
      tags: { [NAME_TAG]: name },
    });
    inventories.set(scope, inventory);
  }
  const audit = new InMemoryAuditSink();
  const route53 = o.route53 ? o.route53(fake) : fake;
  const ports = portsFollowingScope(topology, (scope) => ({
    audit: auditSinkInScope(audit, sameScope(scope, HUB) ? undefined : scope),
    route53,
    inventory: inventories.get(sameScope(scope, HUB) ? HUB : SPOKE) as InMemoryInstanceInventory,
    messageRetry: { after: async () => undefined },
    pacing: policy,
  }));
  const handler = dnsSync.create(
    ports,
    {
      auditTable: 't',
      hostedZoneId: undefined,
      zoneName: undefined,
      zones: JSON.stringify([
        { id: 'ZHUB', name: 'hub.example.com' },
        { id: 'ZSPOKE', name: 'spoke.example.com' },
        { id: 'ZREV', name: '10.in-addr.arpa' },
      ]),
      dnsRoleName: undefined,
      reverseZoneId: undefined,
      reverseZoneName: undefined,
      ownerId: 'prod',
      ttl: 60,
      publishPublicIp: false,
      nameTag: NAME_TAG,
      fleetTagKey: undefined,
      fleetTagValue: undefined,
      autoScalingGroupNames: [],
      dryRun: false,
      absentAfter: 900,
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/fleetwarden-dns-sync',
    },
    // as the entry wires it (wireScopedLambdaHandler): the runtime knows the hub and spokes
    { now: () => new Date(now), gate: REPORT_ONLY_GATE, ...(o.topology === false ? {} : { topology }) },
  );
  const route = routeByScope<SQSEvent, SQSBatchResponse>({
    name: 'dns-sync',
    topology,
    handlerFor: async () => handler,
    audit,
    mode: 'live',
    batches: wholeBatch,
  });
  const run = (...records: SQSRecord[]) => route({ Records: records }, undefined as never);
  const aNames = (zoneId: string) =>
    fake
      .records(zoneId)
      .filter((r) => r.type === 'A' || r.type === 'PTR')
      .map((r) => r.name);
  /** Each message's own record (their ids are hashed): [scope, instance, decision]. */
  const perMessage = () =>
    audit
      .all()
      .filter((r) => r.action === 'dns.upsert' || r.action === 'dns.delete')
      .map((r) => [r.account ?? 'hub', r.subject.instanceId, r.decision])
      .sort();
  /** The record of the message in `scope` (the hub: no account). */
  const recordIn = (scope: AwsScope) =>
    perMessageRecords().find((r) => (r.account ?? HUB.account) === scope.account);
  const perMessageRecords = () =>
    audit.all().filter((r) => r.action === 'dns.upsert' || r.action === 'dns.delete');
  return { fake, audit, run, aNames, perMessage, recordIn, inventories };
}

describe('dns-sync whole batch: a message is judged on its own scope (not on its event id)', () => {
  it("a forged message reusing a spoke event's id in another scope does not fail the genuine spoke message", async () => {
    const w = world();
    // m-spoke: the spoke's genuine running event; m-forged: the same event id, claimed for the hub,
    // where that instance does not exist (DescribeInstances in the hub cannot show it)
    const out = await w.run(
      message('m-spoke', SPOKE, 2, { eventId: 'ev-shared' }),
      message('m-forged', HUB, 2, { eventId: 'ev-shared' }),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-forged' }]);
    expect(w.aNames('ZSPOKE')).toEqual(['s2.spoke.example.com.']);
    expect(w.perMessage()).toEqual([
      [SPOKE.account, id(2), 'acted'],
      ['hub', id(2), 'failed'],
    ]);
  });

  it("one scope's usable fact never stands for another scope's event of the same id", async () => {
    const w = world();
    // the spoke's instance 2 is not describable in the spoke yet (a forged id on a hub instance
    // must not make the spoke's unverified event look verified)
    const out = await w.run(
      message('m-spoke', SPOKE, 7, { eventId: 'ev-shared' }),
      message('m-forged', HUB, 1, { eventId: 'ev-shared' }),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-spoke' }]);
    expect(w.aNames('ZHUB')).toEqual(['h1.hub.example.com.']);
    expect(w.recordIn(SPOKE)).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('does not show'),
    });
  });

  it('an EventBridge duplicate (same id, same scope) in one batch is written once and both messages succeed', async () => {
    const w = world();
    const out = await w.run(
      message('m-1', SPOKE, 2, { eventId: 'ev-dup' }),
      message('m-2', SPOKE, 2, { eventId: 'ev-dup' }),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(w.fake.changeRequests.filter((r) => r.zoneId === 'ZSPOKE')).toHaveLength(1);
    expect(w.perMessage()).toEqual([
      [SPOKE.account, id(2), 'acted'],
      [SPOKE.account, id(2), 'acted'],
    ]);
  });
});

describe('dns-sync whole batch: a Route 53 failure fails only the messages whose changes it carried', () => {
  /** Route 53 that fails every change to `zoneId` with `error()`. */
  const failing =
    (zoneId: string, error: () => Error) =>
    (fake: InMemoryRoute53): Route53Port => ({
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        if (z === zoneId) throw error();
        return fake.changeRecordSets(z, c);
      },
    });

  it("AccessDenied on the spoke's zone fails the spoke's message; the hub's is written and succeeds", async () => {
    const w = world({
      route53: failing(
        'ZSPOKE',
        () => new Route53Error('ChangeResourceRecordSets ZSPOKE failed: AccessDenied: not authorized'),
      ),
    });
    const out = await w.run(message('m-hub', HUB, 1), message('m-spoke', SPOKE, 2));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-spoke' }]);
    expect(w.aNames('ZHUB')).toEqual(['h1.hub.example.com.']);
    // the hub's PTR is written; the spoke instance gets none (its A failed)
    expect(w.aNames('ZREV')).toEqual(['1.0.0.10.in-addr.arpa.']);
    expect(w.perMessage()).toEqual([
      [SPOKE.account, id(2), 'failed'],
      ['hub', id(1), 'acted'],
    ]);
    expect(w.recordIn(SPOKE)?.reason).toContain('AccessDenied');
    const batch = w.audit.all().find((r) => r.action === 'dns.change-batch');
    expect(batch?.details?.failures).toEqual([
      expect.objectContaining({
        instanceId: id(2),
        zoneId: 'ZSPOKE',
        error: expect.stringContaining('AccessDenied'),
      }),
    ]);
  });

  it("Route 53 busy past the budget on one zone (PriorRequestNotComplete) fails only that zone's messages", async () => {
    const w = world({
      route53: failing(
        'ZHUB',
        () => new Route53BusyError('PriorRequestNotComplete', 'ChangeResourceRecordSets: prior request'),
      ),
    });
    const out = await w.run(message('m-hub', HUB, 1), message('m-spoke', SPOKE, 2));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-hub' }]);
    expect(w.aNames('ZSPOKE')).toEqual(['s2.spoke.example.com.']);
    expect(w.recordIn(HUB)).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('ThrottledError'),
    });
  });

  it('a failure of the request every instance shares (the reverse zone) fails every message', async () => {
    const w = world({
      route53: failing('ZREV', () => new Route53Error('ChangeResourceRecordSets ZREV failed: AccessDenied')),
    });
    const out = await w.run(message('m-hub', HUB, 1), message('m-spoke', SPOKE, 2));
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-hub', 'm-spoke']);
  });
});

describe('dns-sync whole batch: an instance its scope does not show is looked for in the other scopes', () => {
  // a "terminated" claimed by the spoke for hub instance 1, dated 20 min ago (past ABSENT_AFTER_SECONDS)
  const forged = () => message('m-forged', SPOKE, 1, { state: 'terminated', at: T0 - 20 * 60_000 });

  it('refuses the claim when another scope shows the instance; only unseen ids cost a describe there', async () => {
    const w = world();
    const out = await w.run(forged(), message('m-spoke', SPOKE, 2));
    expect(out.batchItemFailures).toEqual([]);
    const refused = w.audit.all().find((r) => r.subject.instanceId === id(1));
    expect(refused).toMatchObject({
      action: 'dns.delete',
      decision: 'refused',
      details: { refusal: 'trust.instance-in-another-scope', claimedScope: '222222222222/us-east-1' },
    });
    // the spoke's own describe of both ids, then one hub describe of the unseen id only
    expect([w.inventories.get(SPOKE)?.calls, w.inventories.get(HUB)?.calls]).toEqual([1, 1]);
    expect(w.aNames('ZSPOKE')).toEqual(['s2.spoke.example.com.']);
  });

  it('fails the claim (retried, never acted on) when another scope cannot be described', async () => {
    const w = world();
    w.inventories.get(HUB)?.throttleNext(1);
    const out = await w.run(forged());
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-forged' }]);
    expect(w.perMessage()).toEqual([[SPOKE.account, id(1), 'failed']]);
  });

  it("without the topology, a spoke's unseen instance is never counted gone (a wiring error, retried)", async () => {
    const w = world({ topology: false });
    const out = await w.run(forged());
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-forged' }]);
    expect(w.recordIn(SPOKE)).toMatchObject({
      decision: 'failed',
      reason: expect.stringContaining('topology'),
    });
  });
});
