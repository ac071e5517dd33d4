/**
 * The Route53Port contract against the real Route53ZoneAdapter and a real hosted zone, so the
 * adapter is held to Route 53 itself and not only to the fake the scripted run is backed by.
 * Runs only when FLEETWARDEN_LIVE_ROUTE53_ZONE_ID is set (see LIVE_HOW_TO); the helpers that
 * empty and seed the zone are tested hermetically below on every run.
 */
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRoute53 } from './in-memory-route53';
import { type RecordSet, ROUTE53_MAX_RECORDS_PER_REQUEST, ROUTE53_MAX_VALUE_CHARS_PER_REQUEST } from './port';
import { describeRoute53Contract } from './route53.contract';
import { Route53ZoneAdapter } from './route53-zone-adapter';
import { scriptRoute53 } from './testing/scripted-route53';

const ZONE_ID_VAR = 'FLEETWARDEN_LIVE_ROUTE53_ZONE_ID';
const LIVE_ZONE_ID = process.env[ZONE_ID_VAR];
/** The contract's names (and its 253-character name test) assume this zone name. */
const LIVE_ZONE_NAME = 'example.com.';

const LIVE_HOW_TO =
  `SKIPPED: live Route 53 contract run (${ZONE_ID_VAR} is not set). To run it against a real hosted zone: ` +
  `create a throwaway PRIVATE hosted zone named example.com (associated with any VPC), then run ` +
  `\`${ZONE_ID_VAR}=<its zone id, e.g. Z0123456789ABCDEFGHIJ> npx vitest run shared/dns/route53-zone-adapter.live.test.ts\` ` +
  `with AWS credentials from the default chain (AWS_PROFILE, env vars or SSO) allowed route53:GetHostedZone, ` +
  `route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and route53:GetChange on it. ` +
  `WARNING: before each test and at the end it DELETES EVERY RECORD in that zone except the apex SOA and NS; ` +
  `it refuses a public zone or a zone with another name.`;

if (!LIVE_ZONE_ID) console.info(LIVE_HOW_TO);

interface WaitOptions {
  /** Between GetChange polls (default 2 s). */
  pollMs?: number;
  /** Give up after (default 5 min; a private zone's change is usually INSYNC within a minute). */
  timeoutMs?: number;
}

/** Polls GetChange until the change is INSYNC. */
async function waitInSync(client: Route53Client, changeId: string, opts: WaitOptions = {}): Promise<void> {
  const { pollMs = 2_000, timeoutMs = 300_000 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await client.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status;
    if (status === 'INSYNC') return;
    if (Date.now() + pollMs > deadline) {
      throw new Error(
        `Route 53 change ${changeId} is not INSYNC after ${timeoutMs} ms (last status ${status})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** ResourceRecord elements and value characters a change counts for (UPSERT twice; an alias as one). */
function weightOf(change: Change): { records: number; chars: number } {
  const factor = change.Action === 'UPSERT' ? 2 : 1;
  const values = (change.ResourceRecordSet?.ResourceRecords ?? []).map((r) => r.Value ?? '');
  return {
    records: Math.max(1, values.length) * factor,
    chars: values.reduce((n, v) => n + v.length, 0) * factor,
  };
}

/** Sends the changes in as few requests as Route 53's limits allow, each waited INSYNC; returns the count. */
async function sendPacked(
  client: Route53Client,
  zoneId: string,
  changes: readonly Change[],
  comment: string,
  opts: WaitOptions,
): Promise<number> {
  const requests: Change[][] = [];
  let current: Change[] = [];
  let used = { records: 0, chars: 0 };
  for (const change of changes) {
    const w = weightOf(change);
    if (
      current.length > 0 &&
      (used.records + w.records > ROUTE53_MAX_RECORDS_PER_REQUEST ||
        used.chars + w.chars > ROUTE53_MAX_VALUE_CHARS_PER_REQUEST)
    ) {
      requests.push(current);
      current = [];
      used = { records: 0, chars: 0 };
    }
    current.push(change);
    used = { records: used.records + w.records, chars: used.chars + w.chars };
  }
  if (current.length > 0) requests.push(current);
  for (const Changes of requests) {
    const out = await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Comment: comment, Changes },
      }),
    );
    const changeId = out.ChangeInfo?.Id;
    if (!changeId) throw new Error(`ChangeResourceRecordSets ${zoneId} returned no ChangeInfo.Id`);
    await waitInSync(client, changeId, opts);
  }
  return requests.length;
}

/**
 * Deletes every record set in the zone except the apex SOA and NS: lists every page, then sends
 * DELETEs carrying each set exactly as listed (values, TTL, alias target, routing fields, escaped
 * name) in requests within Route 53's limits, each waited INSYNC. Returns what it did.
 */
async function emptyZoneExceptApex(
  client: Route53Client,
  zoneId: string,
  apex: string,
  opts: WaitOptions = {},
): Promise<{ deleted: number; requests: number }> {
  const listed: ResourceRecordSet[] = [];
  let start: { name: string; type?: RRType | undefined; id?: string | undefined } | undefined;
  do {
    const page = await client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ...(start
          ? { StartRecordName: start.name, StartRecordType: start.type, StartRecordIdentifier: start.id }
          : {}),
      }),
    );
    listed.push(...(page.ResourceRecordSets ?? []));
    start =
      page.IsTruncated && page.NextRecordName
        ? { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier }
        : undefined;
  } while (start);
  const doomed = listed.filter(
    (r) => !((r.Name ?? '').toLowerCase() === apex && (r.Type === 'SOA' || r.Type === 'NS')),
  );
  const requests = await sendPacked(
    client,
    zoneId,
    doomed.map((r): Change => ({ Action: 'DELETE', ResourceRecordSet: r })),
    'fleetwarden live contract run: empty the zone',
    opts,
  );
  return { deleted: doomed.length, requests };
}

/** Writes records (UPSERT, replacing a set of the same name and type) in requests within the limits. */
async function seedZone(
  client: Route53Client,
  zoneId: string,
  records: readonly RecordSet[],
  opts: WaitOptions = {},
): Promise<void> {
  await sendPacked(
    client,
    zoneId,
    records.map(
      (r): Change => ({
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: r.name,
          Type: r.type as RRType,
          TTL: r.ttl,
          ResourceRecords: r.values.map((Value) => ({ Value })),
          ...(r.setIdentifier !== undefined ? { SetIdentifier: r.setIdentifier } : {}),
          ...(r.weight !== undefined ? { Weight: r.weight } : {}),
        },
      }),
    ),
    'fleetwarden live contract run: seed',
    opts,
  );
}

/** Refuses anything but a private zone named example.com (the run deletes its records). */
async function assertThrowawayZone(client: Route53Client, zoneId: string): Promise<void> {
  const zone = (await client.send(new GetHostedZoneCommand({ Id: zoneId }))).HostedZone;
  const name = (zone?.Name ?? '').toLowerCase();
  const isPrivate = zone?.Config?.PrivateZone === true;
  if (name !== LIVE_ZONE_NAME || !isPrivate) {
    throw new Error(
      `${ZONE_ID_VAR}=${zoneId} is a ${isPrivate ? 'private' : 'PUBLIC'} zone named ${name}; the live ` +
        `contract run needs a throwaway PRIVATE zone named ${LIVE_ZONE_NAME} because it deletes every ` +
        `record but the apex SOA and NS. Refusing to touch it.`,
    );
  }
}

describe.skipIf(!LIVE_ZONE_ID)(`live Route 53 (runs only with ${ZONE_ID_VAR} set)`, () => {
  const zoneId = LIVE_ZONE_ID ?? '';
  const region = process.env.AWS_REGION ?? 'us-east-1';
  // the subject: the real adapter on a client like production's (one attempt per call)
  const adapter = new Route53ZoneAdapter(new Route53Client({ region, maxAttempts: 1 }));
  // the scaffolding (empty, seed, wait) retries throttling so it never fails a test itself
  const admin = new Route53Client({ region, maxAttempts: 6, retryMode: 'adaptive' });
  // emptying the zone and waiting INSYNC takes tens of seconds per test (the callback of a skipped
  // describe still runs to collect its tests: leave the hermetic tests' timeouts alone then)
  if (LIVE_ZONE_ID) vi.setConfig({ testTimeout: 600_000, hookTimeout: 900_000 });

  // nothing is deleted unless the zone was checked: afterAll runs even when beforeAll failed
  let checked = false;
  beforeAll(async () => {
    await assertThrowawayZone(admin, zoneId);
    checked = true;
  });
  beforeEach(async () => {
    if (!checked) throw new Error(`${ZONE_ID_VAR}=${zoneId} was not checked; not emptying it`);
    await emptyZoneExceptApex(admin, zoneId, LIVE_ZONE_NAME);
  });
  afterAll(async () => {
    if (checked) await emptyZoneExceptApex(admin, zoneId, LIVE_ZONE_NAME);
  });

  describeRoute53Contract('Route53ZoneAdapter (live Route 53)', () => ({
    port: adapter,
    zoneId,
    seed: (records) => seedZone(admin, zoneId, records),
  }));
});

describe('live-run helpers (hermetic, on aws-sdk-client-mock)', () => {
  // an instance-level mock: the live run's clients above stay real
  const client = new Route53Client({ region: 'us-east-1' });
  const stub = mockClient(client);
  const a = (name: string, ip: string | string[], ttl = 60): RecordSet => ({
    name,
    type: 'A',
    ttl,
    values: Array.isArray(ip) ? ip : [ip],
  });
  const apex: RecordSet[] = [
    {
      name: 'example.com.',
      type: 'NS',
      ttl: 172800,
      values: ['ns-1536.awsdns-00.co.uk.', 'ns-0.awsdns-00.com.'],
    },
    {
      name: 'example.com.',
      type: 'SOA',
      ttl: 900,
      values: ['ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400'],
    },
  ];
  const changeRequests = () =>
    stub.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch?.Changes ?? []);
  const weight = (changes: Change[]) => ({
    records: changes.reduce(
      (n, c) => n + (c.ResourceRecordSet?.ResourceRecords?.length ?? 1) * (c.Action === 'UPSERT' ? 2 : 1),
      0,
    ),
    chars: changes.reduce(
      (n, c) =>
        n +
        (c.ResourceRecordSet?.ResourceRecords ?? []).reduce((m, r) => m + (r.Value ?? '').length, 0) *
          (c.Action === 'UPSERT' ? 2 : 1),
      0,
    ),
  });
  /** A Route 53 backed by the fake (which rejects inexact DELETEs and over-limit requests). */
  const scripted = (records: readonly RecordSet[]) => {
    stub.reset();
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com', records);
    scriptRoute53(stub, fake);
    stub.on(GetChangeCommand).callsFake(async (input: { Id?: string }) => ({
      ChangeInfo: { Id: input.Id, Status: 'INSYNC', SubmittedAt: new Date() },
    }));
    return fake;
  };

  it('emptyZoneExceptApex deletes every set but the apex SOA and NS, with exact values, within the request limits', async () => {
    const others: RecordSet[] = [
      { name: 'example.com.', type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'] },
      { name: 'example.com.', type: 'MX', ttl: 300, values: ['10 mail.example.com.'] },
      { name: 'sub.example.com.', type: 'NS', ttl: 300, values: ['ns-1.awsdns-01.org.'] },
      a('multi.example.com.', ['10.0.0.1', '10.0.0.2'], 300),
      ...Array.from({ length: 1150 }, (_, i) => a(`h${i}.example.com.`, '10.0.0.1')),
      ...Array.from({ length: 150 }, (_, i) => ({
        name: `t${i}.example.com.`,
        type: 'TXT',
        ttl: 60,
        values: [`"${'x'.repeat(250)}"`],
      })),
    ];
    const fake = scripted([...apex, ...others]);

    const out = await emptyZoneExceptApex(client, 'Z1', 'example.com.', { pollMs: 0 });

    expect(fake.records('Z1')).toEqual(apex);
    expect(out.deleted).toBe(others.length);
    const requests = changeRequests();
    expect(out.requests).toBe(requests.length);
    expect(requests.length).toBeGreaterThanOrEqual(2); // 1,305 elements and 37,800+ characters
    for (const changes of requests) {
      expect(changes.every((c) => c.Action === 'DELETE')).toBe(true);
      expect(weight(changes).records).toBeLessThanOrEqual(ROUTE53_MAX_RECORDS_PER_REQUEST);
      expect(weight(changes).chars).toBeLessThanOrEqual(ROUTE53_MAX_VALUE_CHARS_PER_REQUEST);
    }
    expect(requests.flat()).toHaveLength(others.length);
    expect(stub.commandCalls(GetChangeCommand)).toHaveLength(requests.length);
    // a second pass finds nothing to delete
    expect(await emptyZoneExceptApex(client, 'Z1', 'example.com.', { pollMs: 0 })).toEqual({
      deleted: 0,
      requests: 0,
    });
  });

  it('emptyZoneExceptApex deletes alias and routing-policy sets exactly as listed, paging by identifier', async () => {
    stub.reset();
    const alias: ResourceRecordSet = {
      Name: 'www.example.com.',
      Type: 'A',
      AliasTarget: { HostedZoneId: 'Z2', DNSName: 'lb.example.net.', EvaluateTargetHealth: false },
    };
    const weighted: ResourceRecordSet = {
      Name: 'api.example.com.',
      Type: 'A',
      SetIdentifier: 'blue',
      Weight: 10,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.10' }],
    };
    const wildcard: ResourceRecordSet = {
      Name: '\\052.example.com.',
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '192.0.2.1' }],
    };
    stub
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({
        ResourceRecordSets: [
          {
            Name: 'example.com.',
            Type: 'NS',
            TTL: 172800,
            ResourceRecords: [{ Value: 'ns-0.awsdns-00.com.' }],
          },
          {
            Name: 'example.com.',
            Type: 'SOA',
            TTL: 900,
            ResourceRecords: [
              { Value: 'ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400' },
            ],
          },
          wildcard,
        ],
        IsTruncated: true,
        NextRecordName: 'api.example.com.',
        NextRecordType: 'A',
        NextRecordIdentifier: 'blue',
        MaxItems: 3,
      })
      .resolvesOnce({ ResourceRecordSets: [weighted, alias], IsTruncated: false, MaxItems: 3 });
    stub.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() },
    });
    stub
      .on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });

    expect(await emptyZoneExceptApex(client, 'Z9', 'example.com.', { pollMs: 0 })).toEqual({
      deleted: 3,
      requests: 1,
    });

    expect(stub.commandCalls(ListResourceRecordSetsCommand)[1]?.args[0].input).toMatchObject({
      HostedZoneId: 'Z9',
      StartRecordName: 'api.example.com.',
      StartRecordType: 'A',
      StartRecordIdentifier: 'blue',
    });
    expect(stub.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input).toMatchObject({
      HostedZoneId: 'Z9',
      ChangeBatch: {
        Changes: [
          { Action: 'DELETE', ResourceRecordSet: wildcard },
          { Action: 'DELETE', ResourceRecordSet: weighted },
          { Action: 'DELETE', ResourceRecordSet: alias },
        ],
      },
    });
    expect(stub.commandCalls(GetChangeCommand).map((c) => c.args[0].input.Id)).toEqual([
      '/change/C1',
      '/change/C1',
    ]);
  });

  it('seedZone UPSERTs (counted twice against the limits) and replaces a set of the same name and type', async () => {
    const fake = scripted([...apex, a('h0.example.com.', '10.9.9.9', 300)]);
    const records = Array.from({ length: 700 }, (_, i) => a(`h${i}.example.com.`, '10.0.0.1'));

    await seedZone(client, 'Z1', records, { pollMs: 0 });

    expect(fake.records('Z1')).toEqual(expect.arrayContaining([...apex, ...records]));
    expect(fake.records('Z1')).toHaveLength(702);
    const requests = changeRequests();
    expect(requests).toHaveLength(2); // 1,400 counted elements
    for (const changes of requests) {
      expect(changes.every((c) => c.Action === 'UPSERT')).toBe(true);
      expect(weight(changes).records).toBeLessThanOrEqual(ROUTE53_MAX_RECORDS_PER_REQUEST);
    }
    expect(stub.commandCalls(GetChangeCommand)).toHaveLength(2);
  });

  it('waitInSync gives up after its timeout, naming the change and its last status', async () => {
    stub.reset();
    stub
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C7', Status: 'PENDING', SubmittedAt: new Date() } });
    await expect(waitInSync(client, '/change/C7', { pollMs: 1, timeoutMs: 5 })).rejects.toThrow(
      /\/change\/C7 .*PENDING/,
    );
    expect(stub.commandCalls(GetChangeCommand).length).toBeGreaterThanOrEqual(1);
  });

  it('assertThrowawayZone refuses a public zone and a zone not named example.com', async () => {
    stub.reset();
    const zone = (Name: string, PrivateZone: boolean) => ({
      HostedZone: { Id: '/hostedzone/Z9', Name, CallerReference: 'x', Config: { PrivateZone } },
    });
    stub
      .on(GetHostedZoneCommand)
      .resolvesOnce(zone('example.com.', false))
      .resolvesOnce(zone('corp.example.org.', true))
      .resolvesOnce(zone('example.com.', true));
    await expect(assertThrowawayZone(client, 'Z9')).rejects.toThrow(/PUBLIC.*example\.com\..*Refusing/);
    await expect(assertThrowawayZone(client, 'Z9')).rejects.toThrow(/corp\.example\.org\..*Refusing/);
    await expect(assertThrowawayZone(client, 'Z9')).resolves.toBeUndefined();
  });
});
