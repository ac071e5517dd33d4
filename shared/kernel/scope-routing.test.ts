import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { actionRecordId, auditedAction, sqsDelivery } from '../audit/audited-action';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { auditSinkInScope } from '../audit/scoped-sink';
import { type AwsScope, sameScope, scopeKey, type Topology } from '../aws/scope';
import { byMessageSpoke, inSpoke } from '../aws/scope-context';
import { createInScopes } from './queue-scopes';
import type { Handler } from './remediation';
import { portsFollowingScope } from './scope-following';
import { routeByScope } from './scope-routing';
import { sqsBatch } from './sqs-batch';
import { wholeBatch } from './whole-batch';

const HUB = { account: '111111111111', region: 'eu-west-1' };
const SPOKE = { account: '222222222222', region: 'us-east-1' };
const topology: Topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };

const ec2 = (id: string, account: string, region: string, instance = 'i-0123456789abcdef0') => ({
  id,
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  account,
  region,
  time: '2026-11-30T10:00:00Z',
  detail: { 'instance-id': instance, state: 'terminated' },
});
const record = (messageId: string, body: unknown): SQSRecord =>
  ({
    messageId,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1' },
    eventSource: 'aws:sqs',
  }) as unknown as SQSRecord;
const sqs = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const SCHEDULED = {
  id: 'tick-1',
  source: 'aws.events',
  'detail-type': 'Scheduled Event',
  account: HUB.account,
  region: HUB.region,
  time: '2026-11-30T10:00:00Z',
  detail: {},
};

/** Handlers that note which scope got which messages; `failing` scopes fail their messages. */
function harness(opts: { failing?: string[]; throwing?: string[] } = {}) {
  const seen: Array<{ scope: AwsScope | undefined; ids: string[] }> = [];
  const audit = new InMemoryAuditSink();
  const handlerFor =
    async (scope: AwsScope | undefined): Promise<Handler<unknown, unknown>> =>
    async (event) => {
      const where = scope ? `${scope.account}/${scope.region}` : 'single';
      const records = (event as SQSEvent).Records;
      seen.push({ scope, ids: records ? records.map((r) => r.messageId) : [(event as { id: string }).id] });
      if (opts.throwing?.includes(where)) throw new Error(`boom in ${where}`);
      if (!records) return where;
      return {
        batchItemFailures: opts.failing?.includes(where)
          ? records.map((r) => ({ itemIdentifier: r.messageId }))
          : [],
      } satisfies SQSBatchResponse;
    };
  const route = (...given: [Topology | undefined] | []) =>
    routeByScope({
      name: 'dns-sync',
      topology: given.length ? given[0] : topology,
      handlerFor,
      audit,
      mode: 'live',
    });
  return { seen, audit, route };
}

describe('routeByScope: a hub function acts on each event in its own account and region only', () => {
  it("splits a queue batch by scope: each spoke's messages go to that spoke's handler, and only there", async () => {
    const h = harness();
    const res = await h
      .route()
      .call(
        null,
        sqs(
          record('m1', ec2('e1', HUB.account, HUB.region)),
          record('m2', ec2('e2', SPOKE.account, SPOKE.region)),
        ),
      );
    expect(h.seen).toEqual([
      { scope: HUB, ids: ['m1'] },
      { scope: SPOKE, ids: ['m2'] },
    ]);
    expect(res).toEqual({ batchItemFailures: [] });
  });

  it('refuses and audits an event of an unknown account (trust.unknown-account); it is never handed to a handler', async () => {
    const h = harness();
    const res = await h
      .route()
      .call(null, sqs(record('m1', ec2('e1', '333333333333', 'eu-west-1', 'i-0aaaaaaaaaaaaaaa1'))));
    expect(h.seen).toEqual([]);
    // refused, not failed: the message succeeds (no retry, no DLQ) and the record says why
    expect(res).toEqual({ batchItemFailures: [] });
    const [r] = h.audit.all();
    expect(r).toMatchObject({
      function: 'dns-sync',
      action: 'trust.unknown-account',
      decision: 'refused',
      subject: { instanceId: 'i-0aaaaaaaaaaaaaaa1' },
      trigger: { source: 'aws.ec2', id: 'e1' },
      details: { account: '333333333333', region: 'eu-west-1' },
    });
    expect(r?.reason).toMatch(/neither the hub .* nor a configured spoke/);
  });

  it('a spoke account in another of its regions is refused too (a spoke acts only where it is configured)', async () => {
    const h = harness();
    await h.route().call(null, sqs(record('m1', ec2('e1', SPOKE.account, 'ap-south-1'))));
    expect(h.seen).toEqual([]);
    expect(h.audit.all()[0]?.action).toBe('trust.unknown-account');
  });

  it('merges the failures of every scope; a scope whose handler throws fails only its own messages', async () => {
    const h = harness({
      failing: [`${SPOKE.account}/${SPOKE.region}`],
      throwing: [`${HUB.account}/${HUB.region}`],
    });
    const res = await h
      .route()
      .call(
        null,
        sqs(
          record('m1', ec2('e1', HUB.account, HUB.region)),
          record('m2', ec2('e2', SPOKE.account, SPOKE.region)),
          record('m3', ec2('e3', SPOKE.account, SPOKE.region)),
        ),
      );
    expect(res).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }],
    });
  });

  it('a batch that only one scope handles throws as that handler did (the invocation fails as before)', async () => {
    const h = harness({ throwing: [`${HUB.account}/${HUB.region}`] });
    await expect(h.route().call(null, sqs(record('m1', ec2('e1', HUB.account, HUB.region))))).rejects.toThrow(
      'boom in 111111111111/eu-west-1',
    );
  });

  it("a message that claims no account (unreadable, or the fleet's own retry) goes to the hub's handler, which judges it", async () => {
    const h = harness();
    await h.route().call(null, sqs(record('m1', 'not json')));
    expect(h.seen).toEqual([{ scope: HUB, ids: ['m1'] }]);
  });

  it('a direct EventBridge event is routed (or refused) the same way', async () => {
    const h = harness();
    expect(await h.route().call(null, ec2('e9', SPOKE.account, SPOKE.region))).toBe('222222222222/us-east-1');
    expect(await h.route().call(null, ec2('e10', '444444444444', SPOKE.region))).toBeUndefined();
    expect(h.seen).toEqual([{ scope: SPOKE, ids: ['e9'] }]);
    expect(h.audit.all().map((r) => r.action)).toEqual(['trust.unknown-account']);
  });

  it('a schedule runs once per scope, the hub first; a failing scope fails the run after the others ran', async () => {
    const h = harness({ throwing: [`${HUB.account}/${HUB.region}`] });
    await expect(h.route().call(null, SCHEDULED)).rejects.toThrow('boom in 111111111111/eu-west-1');
    expect(h.seen.map((s) => s.scope)).toEqual([HUB, SPOKE]);
  });

  it('without spokes (no topology) the handler gets the event as it is: the single account of today', async () => {
    const h = harness();
    const event = sqs(record('m1', ec2('e1', '333333333333', 'eu-west-1')));
    await h.route(undefined).call(null, event);
    expect(h.seen).toEqual([{ scope: undefined, ids: ['m1'] }]);
    expect(h.audit.all()).toEqual([]);
  });
});

describe('createInScopes: a definition built once per scope', () => {
  it("each scope's handler gets its own ports and an audit sink that fills its account/region", async () => {
    const audit = new InMemoryAuditSink();
    const built: Array<AwsScope | undefined> = [];
    const create = (ports: { audit: { write: InMemoryAuditSink['write'] }; where: string }) => async () => {
      await ports.audit.write({
        schemaVersion: 1,
        recordId: `r-${ports.where}`,
        time: '2026-11-30T10:00:00.000Z',
        function: 'runner-drain',
        trigger: { source: 'aws.autoscaling', id: 'e' },
        subject: { instanceId: 'i-0123456789abcdef0' },
        action: 'lifecycle.complete',
        decision: 'acted',
        reason: 'done',
        mode: 'live',
      });
      return { batchItemFailures: [] };
    };
    const handler = createInScopes({
      name: 'runner-drain',
      create,
      topology,
      audit,
      mode: 'live',
      portsFor: (scope) => {
        built.push(scope);
        return { where: scope?.region ?? 'none' };
      },
    });
    await handler(sqs(record('m1', ec2('e1', SPOKE.account, SPOKE.region))));
    expect(built).toEqual([SPOKE]);
    expect(audit.records.get('r-us-east-1')).toMatchObject({ account: SPOKE.account, region: SPOKE.region });
  });
});

describe('audit record ids across scopes', () => {
  const ctx = {
    function: 'orphaned-volumes',
    trigger: { source: 'aws.events', id: 'tick-1' },
    mode: 'live' as const,
  };
  const what = { action: 'volume.sweep', subject: { recordName: 'run' } };

  it("gives a schedule tick's run in each spoke its own record ids, and keeps the hub's as before", async () => {
    const { actionRecordId } = await import('../audit/audited-action');
    const ids: Array<{ where: string; id: string }> = [];
    const route = routeByScope({
      name: 'orphaned-volumes',
      topology,
      audit: new InMemoryAuditSink(),
      mode: 'live',
      handlerFor: async (scope) => async () => {
        ids.push({
          where: scope ? `${scope.account}/${scope.region}` : 'single',
          id: actionRecordId(ctx, what),
        });
        return undefined;
      },
    });
    await route(SCHEDULED, undefined as never);
    expect(ids.map((x) => x.where)).toEqual([
      `${HUB.account}/${HUB.region}`,
      `${SPOKE.account}/${SPOKE.region}`,
    ]);
    // the same step in two accounts is two records (one would overwrite the other)
    expect(new Set(ids.map((x) => x.id)).size).toBe(2);
    // the hub's own record keeps the id it had before spokes (no duplicate history on upgrade)
    expect(ids[0]?.id).toBe(actionRecordId(ctx, what));
  });
});

describe('routeByScope, batches "whole": one handler per SQS batch, each message still in its own scope', () => {
  const OTHER = { account: '999999999999', region: 'eu-west-1' };
  const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
  const msg = (m: string, scope: AwsScope, n: number) =>
    record(m, {
      ...ec2(`e-${m}`, scope.account, scope.region, id(n)),
      detail: { 'instance-id': id(n), state: 'running' },
    });

  /**
   * A batch remediation as dns-sync is: its facts read per message scope (each group inside its
   * spoke), one batch-wide step, then one audited record per message through sqsBatch.
   */
  function wholeHarness(opts: { failingDescribe?: AwsScope } = {}) {
    const described = new Map<string, string[]>();
    const audit = new InMemoryAuditSink();
    const batches: string[][] = [];
    const portsFor = (scope: AwsScope) => ({
      inventory: {
        describe: async (ids: readonly string[]) => {
          if (opts.failingDescribe && sameScope(scope, opts.failingDescribe)) throw new Error('spoke down');
          described.set(scopeKey(scope), [...(described.get(scopeKey(scope)) ?? []), ...ids]);
          return ids;
        },
      },
      audit: auditSinkInScope(audit, scope),
    });
    const ports = portsFollowingScope(topology, portsFor);
    const handler: Handler<SQSEvent, SQSBatchResponse> = async (event, context) => {
      batches.push(event.Records.map((r) => r.messageId));
      const failed = new Set<string>();
      for (const group of byMessageSpoke(event.Records)) {
        const ids = group.records.map((r) => JSON.parse(r.body).detail['instance-id'] as string);
        await inSpoke(group.spoke, () => ports.inventory.describe(ids)).catch(() => {
          for (const r of group.records) failed.add(r.messageId);
        });
      }
      return sqsBatch(
        event,
        context,
        async (r) => {
          const body = JSON.parse(r.body);
          await auditedAction(
            ports.audit,
            {
              function: 'dns-sync',
              trigger: { source: 'aws.ec2', id: body.id },
              mode: 'live',
              ...sqsDelivery(r),
            },
            { action: 'dns.upsert', subject: { instanceId: body.detail['instance-id'] } },
            async () => {
              if (failed.has(r.messageId)) throw new Error(`describe failed for ${r.messageId}`);
              return { decision: 'acted', reason: 'ok', result: undefined };
            },
          );
        },
        { throwOnFullBatchFailure: false },
      );
    };
    const route = routeByScope<SQSEvent, SQSBatchResponse>({
      name: 'dns-sync',
      topology,
      handlerFor: () => handler,
      audit,
      mode: 'live',
      batches: wholeBatch,
    });
    return { described, audit, batches, route };
  }

  it('refuses and audits an unknown scope; the others reach ONE handler call', async () => {
    const h = wholeHarness();
    const res = await h.route(
      sqs(msg('m1', HUB, 1), msg('m2', OTHER, 2), msg('m3', SPOKE, 3)),
      undefined as never,
    );
    expect(h.batches).toEqual([['m1', 'm3']]);
    expect(res.batchItemFailures).toEqual([]);
    const refused = h.audit.all().filter((r) => r.action === 'trust.unknown-account');
    expect(refused.map((r) => [r.decision, r.subject])).toEqual([['refused', { instanceId: id(2) }]]);
    expect(h.described.has(scopeKey(OTHER))).toBe(false);
  });

  it("describes each message's instance in its own scope only, and audits it there", async () => {
    const h = wholeHarness();
    await h.route(sqs(msg('m1', HUB, 1), msg('m2', SPOKE, 2), msg('m3', HUB, 3)), undefined as never);
    expect(Object.fromEntries(h.described)).toEqual({
      [scopeKey(HUB)]: [id(1), id(3)],
      [scopeKey(SPOKE)]: [id(2)],
    });
    const upserts = h.audit.all().filter((r) => r.action === 'dns.upsert');
    const where = Object.fromEntries(upserts.map((r) => [r.subject.instanceId, `${r.account}/${r.region}`]));
    expect(where).toEqual({
      [id(1)]: `${HUB.account}/${HUB.region}`,
      [id(2)]: `${SPOKE.account}/${SPOKE.region}`,
      [id(3)]: `${HUB.account}/${HUB.region}`,
    });
    // the spoke's record has an id of its own (as a split batch gave it), the hub's keep theirs
    const spokeRecord = upserts.find((r) => r.subject.instanceId === id(2));
    expect(spokeRecord?.recordId).toBe(
      inSpoke(SPOKE, () =>
        actionRecordId(
          {
            function: 'dns-sync',
            trigger: { source: 'aws.ec2', id: 'e-m2' },
            mode: 'live',
            deliveryId: 'm2',
          },
          { action: 'dns.upsert', subject: { instanceId: id(2) } },
        ),
      ),
    );
  });

  it("a spoke's describe failure fails only that spoke's messages", async () => {
    const h = wholeHarness({ failingDescribe: SPOKE });
    const res = await h.route(
      sqs(msg('m1', HUB, 1), msg('m2', SPOKE, 2), msg('m3', HUB, 3)),
      undefined as never,
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(h.described.get(scopeKey(HUB))).toEqual([id(1), id(3)]);
  });
});
