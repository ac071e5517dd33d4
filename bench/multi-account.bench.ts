/**
 * Hub and spokes at scale: 100,000 instances over 3 accounts x 2 regions (the hub's scope 40 %, the
 * five spoke scopes 20/15/10/10/5 %), through the real seam: `ec2ClientFor`/`autoScalingClientFor`
 * build the SDK clients (memoised per scope, spoke credentials from a counting stand-in of
 * `fromTemporaryCredentials`: one STS AssumeRole each time the SDK resolves a spoke client's
 * credentials), `fleetAcrossScopes` merges the scopes of the fleet-wide runs, `routeByScope` splits
 * the per-event batches. The clients are real (middleware, signing, retries); one bench middleware
 * placed after signing answers each call from the scope's in-memory fleet and counts it there, so
 * every DescribeInstances page (1,000 as EC2 pages), Auto Scaling call and AssumeRole is counted in
 * its account and region. Route 53 (the hub's zone, in-memory fake) and GitHub (runner registry
 * fake, per_page 100) are counted too. Runs:
 *   (a) runner-sweep (100,000 runners, 100 ghosts) and dns-reconcile (zone in sync) across scopes;
 *   (b) 1,000 instances reaching `running`, each event from its own scope, in SQS batches as
 *       deployed, through routeByScope into dns-sync.
 * The naive baseline, run for real on the same fakes: a new client, hence one AssumeRole, per call.
 */

import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { InMemoryAuditSink } from '../shared/audit/in-memory-audit-sink';
import { InMemoryAuditStore } from '../shared/audit/in-memory-audit-store';
import { AutoScalingInstanceLifecycle } from '../shared/autoscaling/instance-lifecycle';
import { AutoScalingWarmPool } from '../shared/autoscaling/warm-pool';
import { fleetAcrossScopes } from '../shared/aws/across-scopes';
import { type AwsScope, scopeKey, type Topology } from '../shared/aws/scope';
import {
  autoScalingClientFor,
  type CredentialsFor,
  ec2ClientFor,
  resetScopedClients,
  type ScopeAccess,
} from '../shared/aws/scoped-clients';
import { InMemorySweepState } from '../shared/budget/in-memory-sweep-state';
import { InMemoryCloudTrail } from '../shared/cloudtrail/in-memory-cloudtrail';
import { DEFAULT_PACING } from '../shared/core/pacing';
import { DNS_SYNC_BATCHING } from '../shared/dns/batching';
import { InMemoryRoute53 } from '../shared/dns/in-memory-route53';
import { formatMarker } from '../shared/dns/marker';
import { markerNameFor } from '../shared/dns/names';
import type { RecordSet, Route53Port } from '../shared/dns/port';
import { sqsRecord, stateChangeEvent } from '../shared/dns/testing/state-change-event';
import { Ec2InstanceInventory } from '../shared/ec2/ec2-instance-inventory';
import { Ec2InstanceTerminator } from '../shared/ec2/instance-terminator';
import type { InstanceInfo } from '../shared/ec2/port';
import { toWireInstance } from '../shared/ec2/testing/scripted-describe-instances';
import { InMemoryRunnerRegistry } from '../shared/github/in-memory-runner-registry';
import { REPORT_ONLY_GATE } from '../shared/kernel/approval';
import { portsFollowingScope } from '../shared/kernel/scope-following';
import { routeByScope } from '../shared/kernel/scope-routing';
import { readSettings } from '../shared/kernel/settings';
import { wholeBatch } from '../shared/kernel/whole-batch';
import { INSTANCE_LABEL_PREFIX } from '../shared/runners/matching';

/**
 * The handlers' definitions, loaded after Powertools is quieted (benchmarks print figures, not EMF
 * metrics or logs; an import would be hoisted above these settings).
 */
async function definitions() {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const { logger } = await import('../shared/observability/powertools');
  logger.setLogLevel('SILENT');
  return {
    ...(await import('../functions/dns-reconcile/definition')),
    ...(await import('../functions/dns-sync/definition')),
    ...(await import('../functions/runner-sweep/definition')),
  };
}
type Definitions = Awaited<ReturnType<typeof definitions>>;
let defs: Definitions;

const T0 = Date.parse('2026-11-24T12:00:00Z');
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const NAME_TAG = 'fleetwarden:dns-name';
const ASG = 'ci-runners';
const FLEET_ID = 'bench';

/** The hub's Lambda runs in the hub's region; its default clients need some credentials to sign. */
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIABENCHHUBONLY0000';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench-hub-execution-role';

const scope = (account: string, region: string, share: number) => ({
  account,
  region,
  share,
  key: scopeKey({ account, region }),
});
/** Uneven on purpose; the first is the hub. */
export const SCOPES = [
  scope('111111111111', 'eu-west-1', 0.4),
  scope('111111111111', 'us-east-1', 0.2),
  scope('222222222222', 'eu-west-1', 0.15),
  scope('222222222222', 'us-east-1', 0.1),
  scope('333333333333', 'eu-west-1', 0.1),
  scope('333333333333', 'us-east-1', 0.05),
] as const;
export const HUB = SCOPES[0];
const TOPOLOGY: Topology = {
  hub: { account: HUB.account, region: HUB.region },
  spokes: SCOPES.slice(1).map(({ account, region }) => ({ account, region })),
  fleetId: FLEET_ID,
  partition: 'aws',
};

/** What one scope's account and region answered (and counted). */
interface Counts {
  describeInstances: number;
  autoScaling: number;
  terminate: number;
  assumeRole: number;
}
const zero = (): Counts => ({ describeInstances: 0, autoScaling: 0, terminate: 0, assumeRole: 0 });

/**
 * One scope's EC2 and Auto Scaling, in memory. A listing is computed once (one scan) and served
 * in pages of 1,000 through NextToken; an id lookup costs the ids asked: no quadratic scan.
 */
class ScopeFleet {
  readonly byId = new Map<string, InstanceInfo>();
  counts = zero();
  private readonly listings = new Map<string, InstanceInfo[]>();
  private nextListing = 0;

  describeInstances(input: {
    Filters?: { Name?: string; Values?: string[] }[];
    MaxResults?: number;
    NextToken?: string;
  }) {
    this.counts.describeInstances++;
    const [listing = '', from = '0'] = (input.NextToken ?? '').split(':');
    let found = this.listings.get(listing);
    if (!found) found = this.select(input.Filters ?? []);
    const offset = Number(from);
    const size = Math.min(input.MaxResults ?? 1000, 1000);
    const page = found.slice(offset, offset + size);
    const Reservations = page.map((i) => ({ Instances: [toWireInstance(i)] }));
    if (offset + size >= found.length) return { Reservations };
    const id = listing || String(++this.nextListing);
    this.listings.set(id, found);
    return { Reservations, NextToken: `${id}:${offset + size}` };
  }

  private select(filters: { Name?: string; Values?: string[] }[]): InstanceInfo[] {
    const f = new Map(filters.map((x) => [x.Name ?? '', x.Values ?? []]));
    const ids = f.get('instance-id');
    let list = ids
      ? ids.flatMap((id) => (this.byId.has(id) ? [this.byId.get(id) as InstanceInfo] : []))
      : [...this.byId.values()];
    for (const [name, values] of f) {
      if (name.startsWith('tag:')) list = list.filter((i) => values.includes(i.tags[name.slice(4)] ?? ''));
      if (name === 'instance-state-name') list = list.filter((i) => values.includes(i.state));
    }
    return list;
  }

  /** The fleet's one ASG (its instances are not inlined: only the call count matters here). */
  answer(command: string, input: unknown): Record<string, unknown> {
    switch (command) {
      case 'DescribeInstancesCommand':
        return this.describeInstances(input as Parameters<ScopeFleet['describeInstances']>[0]);
      case 'DescribeAutoScalingGroupsCommand':
        this.counts.autoScaling++;
        return { AutoScalingGroups: [{ AutoScalingGroupName: ASG, Instances: [] }] };
      case 'DescribeWarmPoolCommand':
        this.counts.autoScaling++;
        return { Instances: [] };
      case 'TerminateInstancesCommand':
        this.counts.terminate++;
        return { TerminatingInstances: [] };
      default:
        throw new Error(`bench: ${command} is not answered`);
    }
  }
}

/** CPU spent inside the fakes (their work is synchronous, before their promise resolves). */
const fakeCpu = { ms: 0 };
function timed<T>(f: () => T): T {
  const t = process.cpuUsage();
  try {
    return f();
  } finally {
    const d = process.cpuUsage(t);
    fakeCpu.ms += (d.user + d.system) / 1000;
  }
}

const WIRE = 'benchScopeFleet';
interface Stack {
  remove(name: string): boolean;
  addRelativeTo(
    mw: (next: unknown, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>,
    o: { relation: 'after'; toMiddleware: string; name: string },
  ): void;
}
/** Answer a real client's calls from `fleet`, after the SDK has resolved credentials and signed. */
function wire<C extends EC2Client | AutoScalingClient>(client: C, fleet: ScopeFleet): C {
  const stack = client.middlewareStack as unknown as Stack;
  stack.remove(WIRE);
  stack.addRelativeTo(
    (_next, context) => async (args) => ({
      output: {
        $metadata: { httpStatusCode: 200, requestId: 'bench' },
        ...timed(() => fleet.answer(context.commandName ?? '', args.input)),
      },
      response: { statusCode: 200, headers: {} },
    }),
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: WIRE },
  );
  return client;
}

interface World {
  fleets: Map<string, ScopeFleet>;
  registry: InMemoryRunnerRegistry;
  naiveRegistry: InMemoryRunnerRegistry;
  route53: InMemoryRoute53;
  instances: number;
  ghosts: number;
  now: { ms: number };
}

const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const ipOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const dnsName = (n: number) => `web-${n}.example.com`;

/** Instance `n` of `share * total` in each scope, with its runner and its (in-sync) DNS records. */
function world(total: number, ghosts: number): World {
  const now = { ms: T0 - 3_600_000 };
  const fleets = new Map(SCOPES.map((s) => [s.key, new ScopeFleet()]));
  const registry = new InMemoryRunnerRegistry({ now: () => now.ms, rateLimit: 10_000_000 });
  const naiveRegistry = new InMemoryRunnerRegistry({ now: () => now.ms, rateLimit: 10_000_000 });
  const records: RecordSet[] = [];
  let n = 0;
  for (const s of SCOPES) {
    const fleet = fleets.get(s.key) as ScopeFleet;
    const mine = Math.round(total * s.share);
    const ghostEvery = Math.round(mine / Math.round(ghosts * s.share));
    for (let k = 1; k <= mine; k++) {
      n++;
      const ghost = k % ghostEvery === 0;
      fleet.byId.set(iid(n), {
        instanceId: iid(n),
        state: ghost ? 'terminated' : 'running',
        ...(ghost ? { stateChangedAt: new Date(T0 - 10 * 60_000).toISOString() } : { privateIp: ipOf(n) }),
        tags: { [FLEET.key]: FLEET.value, 'aws:autoscaling:groupName': ASG, [NAME_TAG]: dnsName(n) },
        launchTime: new Date(now.ms).toISOString(),
      });
      const runner = { name: `ci-${iid(n)}`, labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(n)}`] };
      registry.register(runner);
      naiveRegistry.register(runner);
      if (ghost) continue;
      records.push(...inSync(n, now.ms));
    }
  }
  now.ms = T0 - 10 * 60_000;
  for (const [id, info] of [...fleets.values()].flatMap((f) => [...f.byId])) {
    if (info.state !== 'terminated') continue;
    const runnerId = Number.parseInt(id.slice(2), 16);
    registry.setStatus(runnerId, 'offline');
    naiveRegistry.setStatus(runnerId, 'offline');
  }
  now.ms = T0;
  const route53 = new InMemoryRoute53().addZone('ZFWD', 'example.com', records);
  return { fleets, registry, naiveRegistry, route53, instances: n, ghosts, now };
}

/** The A record and marker dns-sync left for a running instance. */
function inSync(n: number, atMs: number): RecordSet[] {
  const name = `${dnsName(n)}.`;
  const time = new Date(atMs - 3_600_000).toISOString();
  const marker = { owner: 'fleetwarden', instanceId: iid(n), state: 'running' as const, time };
  return [
    { name, type: 'A', ttl: 60, values: [ipOf(n)] },
    {
      name: markerNameFor(name),
      type: 'TXT',
      ttl: 60,
      values: [formatMarker({ ...marker, type: 'A', value: ipOf(n) })],
    },
  ];
}

/**
 * Spoke credentials as `fromTemporaryCredentials` gives them: a provider per client; each time the
 * SDK resolves it (it memoises the result until near expiry) is one STS AssumeRole in the scope's
 * region, counted in the scope the role was assumed for.
 */
function countingCredentials(fleets: Map<string, ScopeFleet>): CredentialsFor {
  return ({ roleArn, region }) => {
    const account = roleArn.split(':')[4] ?? '';
    const fleet = fleets.get(scopeKey({ account, region }));
    if (!fleet) throw new Error(`bench: no scope ${account}/${region}`);
    return async () => {
      fleet.counts.assumeRole++;
      return {
        accessKeyId: 'ASIABENCHSPOKE000000',
        secretAccessKey: 'bench',
        sessionToken: 'bench',
        expiration: new Date(Date.now() + 3_600_000),
      };
    };
  };
}

/** The clients of one container: the seam's memoised ones, each wired to its scope's fleet. */
interface Clients {
  ec2(s: AwsScope | undefined): EC2Client;
  autoScaling(s: AwsScope | undefined): AutoScalingClient;
}
const fleetOf = (w: World, s: AwsScope | undefined) => w.fleets.get(scopeKey(s ?? HUB)) as ScopeFleet;

function seamClients(w: World, functionName: string): Clients {
  resetScopedClients(); // a new container: nothing memoised, no role assumed yet
  const access: ScopeAccess = {
    topology: TOPOLOGY,
    functionName,
    credentials: countingCredentials(w.fleets),
  };
  return {
    ec2: (s) => wire(ec2ClientFor(s, access), fleetOf(w, s)),
    autoScaling: (s) => wire(autoScalingClientFor(s, access), fleetOf(w, s)),
  };
}

/**
 * The naive design: a new client (and, in a spoke, a new provider: one AssumeRole) for every call.
 * The hub keeps its execution role (no AssumeRole there either way).
 */
function perCallClients(w: World): Clients {
  const credentials = countingCredentials(w.fleets);
  const fresh = <C extends EC2Client | AutoScalingClient>(
    Client: new (c: object) => C,
    s: AwsScope | undefined,
  ): C => {
    const hub = !s || scopeKey(s) === HUB.key;
    const config = hub
      ? { region: HUB.region }
      : {
          region: s.region,
          credentials: credentials({
            roleArn: `arn:aws:iam::${s.account}:role/fleetwarden-spoke-${FLEET_ID}`,
            roleSessionName: 'naive',
            region: s.region,
          }),
        };
    return wire(new Client({ ...config, maxAttempts: 1 }), fleetOf(w, s));
  };
  const perCall = <C extends EC2Client | AutoScalingClient>(
    Client: new (c: object) => C,
    s: AwsScope | undefined,
  ) =>
    ({
      send: (command: never) =>
        (fresh(Client, s) as unknown as { send(c: never): Promise<unknown> }).send(command),
    }) as unknown as C;
  return { ec2: (s) => perCall(EC2Client, s), autoScaling: (s) => perCall(AutoScalingClient, s) };
}

const resetCounts = (w: World) => {
  for (const f of w.fleets.values()) f.counts = zero();
};

export interface ScopeRow extends Counts {
  scope: string;
  account: string;
  region: string;
  instances: number;
}
function rowsOf(w: World): ScopeRow[] {
  return SCOPES.map((s) => ({
    scope: s.key,
    account: s.account,
    region: s.region,
    instances: (w.fleets.get(s.key) as ScopeFleet).byId.size,
    ...(w.fleets.get(s.key) as ScopeFleet).counts,
  }));
}

const callsOf = (r: Counts) => r.describeInstances + r.autoScaling + r.terminate + r.assumeRole;
/** The scope with the most calls: its share of the calls over its share of the instances. */
function busiestOf(rows: readonly (Counts & { scope: string; instances: number })[]) {
  const calls = rows.reduce((a, r) => a + callsOf(r), 0);
  const instances = rows.reduce((a, r) => a + r.instances, 0);
  const top = [...rows].sort((a, b) => callsOf(b) - callsOf(a))[0] as ScopeRow;
  return { scope: top.scope, ratio: callsOf(top) / calls / (top.instances / instances) };
}

/** CPU of a run (user + system) and the part of it spent inside the fakes. */
const cpuMs = (f: () => Promise<unknown>) => async () => {
  const c = process.cpuUsage();
  const fake0 = fakeCpu.ms;
  await f();
  const d = process.cpuUsage(c);
  return { total: (d.user + d.system) / 1000, fakes: fakeCpu.ms - fake0 };
};
const SCHEDULE = {
  version: '0',
  id: 'bench',
  resources: [],
  source: 'aws.events',
  account: HUB.account,
  region: HUB.region,
  time: new Date(T0).toISOString(),
  'detail-type': 'Scheduled Event',
  detail: {},
} as const;

/** runner-sweep over the whole fleet (fleetAcrossScopes), one container's clients. */
async function sweepOnce(w: World, clients: Clients, registry: InMemoryRunnerRegistry) {
  const sweep = defs.runnerSweep.create(
    {
      registry,
      ...fleetAcrossScopes(
        (s) => ({
          inventory: new Ec2InstanceInventory(clients.ec2(s)),
          instanceLifecycle: new AutoScalingInstanceLifecycle(clients.autoScaling(s)),
          warmPool: new AutoScalingWarmPool(clients.autoScaling(s)),
          terminator: new Ec2InstanceTerminator(clients.ec2(s)),
        }),
        () => TOPOLOGY,
      ),
      audit: new InMemoryAuditSink(),
      sweepState: new InMemorySweepState(() => w.now.ms),
    },
    {
      ...readSettings(defs.runnerSweep.settings, {
        AUDIT_TABLE_NAME: 'audit',
        SWEEP_STATE_TABLE: 'sweep-state',
        FLEET_TAG_KEY: FLEET.key,
        FLEET_TAG_VALUE: FLEET.value,
        FLEET_ID,
      }),
      dryRun: false,
      autoScalingGroupNames: [ASG],
      maxRemovalShare: 0.2,
    },
    { now: () => new Date(w.now.ms), gate: REPORT_ONLY_GATE },
  );
  return sweep(SCHEDULE as never);
}

async function sweepRun(w: World) {
  resetCounts(w);
  let summary: { deregistered: number } = { deregistered: 0 };
  const cpu = await cpuMs(async () => {
    summary = await sweepOnce(w, seamClients(w, 'fleetwarden-runner-sweep'), w.registry);
  })();
  const rows = rowsOf(w);
  resetCounts(w);
  let naive: { deregistered: number } = { deregistered: 0 };
  const naiveCpu = await cpuMs(async () => {
    naive = await sweepOnce(w, perCallClients(w), w.naiveRegistry);
  })();
  return {
    ghosts: w.ghosts,
    deregistered: summary.deregistered,
    githubListPages: w.registry.calls.listPages,
    githubDeletes: w.registry.calls.delete,
    rows,
    busiest: busiestOf(rows),
    cpuMs: cpu,
    naive: { rows: rowsOf(w), deregistered: naive.deregistered, cpuMs: naiveCpu },
  };
}

const DNS = {
  auditTable: 'bench',
  hostedZoneId: 'ZFWD',
  zoneName: 'example.com',
  reverseZoneId: undefined,
  reverseZoneName: undefined,
  ownerId: 'fleetwarden',
  ttl: 60,
  publishPublicIp: false,
  nameTag: NAME_TAG,
  fleetTagKey: FLEET.key,
  fleetTagValue: FLEET.value,
  autoScalingGroupNames: [ASG],
  dryRun: false,
  zones: undefined,
  dnsRoleName: undefined,
};
// no real sleeps: the bench counts calls
const PACING = { ...DEFAULT_PACING, sleep: async () => undefined };

/** dns-reconcile over the whole fleet (fleetAcrossScopes) against the hub's zone, in sync. */
async function reconcileRun(w: World) {
  resetCounts(w);
  const clients = seamClients(w, 'fleetwarden-dns-reconcile');
  const lists = w.route53.listRequests;
  const changes = w.route53.changeRequests.length;
  const audit = new InMemoryAuditSink();
  const reconcile = defs.dnsReconcile.create(
    {
      route53: countedPort(w.route53, { route53: 0 }),
      inventory: fleetAcrossScopes(
        (s) => ({ inventory: new Ec2InstanceInventory(clients.ec2(s)) }),
        () => TOPOLOGY,
      ).inventory,
      audit,
      auditStore: new InMemoryAuditStore(audit),
      pacing: PACING,
      // no zone change outside the fleet here (the bench's run reads on its full-read slot)
      cloudTrail: new InMemoryCloudTrail({ now: () => w.now.ms, sleep: async () => undefined }),
    },
    {
      ...DNS,
      tombstoneHours: 24,
      settle: 300,
      schedule: 300,
      fullReadEvery: 3600,
      evidenceMax: 50,
      trailDelay: 900,
      writerRoles: [],
    },
    { now: () => new Date(w.now.ms), gate: REPORT_ONLY_GATE },
  );
  const cpu = await cpuMs(() => reconcile(SCHEDULE as never))();
  const rows = rowsOf(w);
  return {
    rows,
    busiest: busiestOf(rows),
    route53Lists: w.route53.listRequests - lists,
    route53Changes: w.route53.changeRequests.length - changes,
    cpuMs: cpu,
  };
}

const BURST = 1000;
/** BURST new instances, each scope its share, reaching `running` within 10 s, interleaved in time. */
function burstArrivals(w: World) {
  const arrivals: { n: number; s: (typeof SCOPES)[number]; atMs: number }[] = [];
  let n = w.instances;
  for (const s of SCOPES) {
    const mine = Math.round(BURST * s.share);
    for (let k = 0; k < mine; k++) {
      n++;
      const info = {
        instanceId: iid(n),
        state: 'running' as const,
        privateIp: ipOf(n),
        tags: { [FLEET.key]: FLEET.value, 'aws:autoscaling:groupName': ASG, [NAME_TAG]: dnsName(n) },
      };
      (w.fleets.get(s.key) as ScopeFleet).byId.set(info.instanceId, info);
      arrivals.push({ n, s, atMs: T0 + Math.floor((k * 10_000) / mine) });
    }
  }
  return arrivals.sort((a, b) => a.atMs - b.atMs || a.n - b.n);
}

/** Close an SQS batch when full or when its window has passed (Lambda's poller). */
function batchesOf<T extends { atMs: number }>(arrivals: T[]): T[][] {
  const windowMs = DNS_SYNC_BATCHING.maxBatchingWindowSeconds * 1000;
  const out: T[][] = [[]];
  for (const a of arrivals) {
    const current = out.at(-1) as T[];
    const first = current[0];
    if (first && (current.length >= DNS_SYNC_BATCHING.batchSize || a.atMs - first.atMs >= windowMs))
      out.push([a]);
    else current.push(a);
  }
  return out.filter((b) => b.length > 0);
}

/** Route 53 through the fake, counted in the scope whose events made the calls. */
function countedPort(fake: InMemoryRoute53, count: { route53: number }): Route53Port {
  return {
    listRecordSets: (z) => fake.listRecordSets(z),
    listPage: (z, start, max) => {
      count.route53++;
      return timed(() => fake.listPage(z, start, max));
    },
    changeRecordSets: (z, c) => {
      count.route53++;
      return timed(() => fake.changeRecordSets(z, c));
    },
  };
}

type Arrival = ReturnType<typeof burstArrivals>[number];
/**
 * The burst through routeByScope into dns-sync, as its definition asks (`scopeBatches`: one handler
 * per SQS batch, its ports following each message's scope) or split by scope (the design it
 * replaced: one handler per scope group); per scope: events, batches, Route 53 calls.
 */
async function burstOnce(
  w: World,
  clients: Clients,
  route53: InMemoryRoute53,
  arrivals: Arrival[],
  batches: 'by-scope' | 'whole' = defs.dnsSync.scopeBatches ?? 'by-scope',
) {
  const per = new Map(SCOPES.map((s) => [s.key, { events: 0, batches: 0, route53: 0 }]));
  const audit = new InMemoryAuditSink();
  const portsIn = (s: AwsScope | undefined) => ({
    route53: countedPort(route53, per.get(scopeKey(s ?? HUB)) as { route53: number }),
    inventory: new Ec2InstanceInventory(clients.ec2(s)),
    audit: new InMemoryAuditSink(),
    messageRetry: { after: async () => undefined },
    pacing: PACING,
  });
  const create = (ports: ReturnType<typeof portsIn>) =>
    defs.dnsSync.create(
      ports,
      { ...DNS, absentAfter: 900, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/bench' },
      { now: () => new Date(w.now.ms), gate: REPORT_ONLY_GATE },
    );
  const whole = batches === 'whole' ? create(portsFollowingScope(TOPOLOGY, portsIn)) : undefined;
  const route = routeByScope<SQSEvent, { batchItemFailures: unknown[] }>({
    name: 'dns-sync',
    topology: TOPOLOGY,
    audit,
    mode: 'live',
    ...(whole ? { batches: wholeBatch } : {}),
    handlerFor: (s) => whole ?? create(portsIn(s)),
  });
  let failedMessages = 0;
  for (const batch of batchesOf(arrivals)) {
    w.now.ms = (batch.at(-1) as Arrival).atMs + 1000;
    for (const key of new Set(batch.map((a) => a.s.key))) (per.get(key) as { batches: number }).batches++;
    const Records = batch.map(({ n, s, atMs }) => {
      (per.get(s.key) as { events: number }).events++;
      const body = { ...stateChangeEvent(iid(n), 'running', atMs), account: s.account, region: s.region };
      return sqsRecord(body, `m-${n}`, atMs) as SQSRecord;
    });
    failedMessages += (await route({ Records }, undefined as never)).batchItemFailures.length;
  }
  // the hub's sink holds only routeByScope's own refusals (trust.unknown-account)
  const refused = audit.all().length;
  return { per, failedMessages, refused };
}

/**
 * The same batches into ONE dns-sync handler (no split by scope; its inventory describes in every
 * scope), on a fresh zone: the Route 53 calls a batch costs when it is not split.
 */
async function unsplitRoute53(w: World, arrivals: Arrival[]): Promise<number> {
  const zone = new InMemoryRoute53().addZone('ZFWD', 'example.com');
  const count = { route53: 0 };
  const clients = seamClients(w, 'fleetwarden-dns-sync');
  const handler = defs.dnsSync.create(
    {
      route53: countedPort(zone, count),
      inventory: fleetAcrossScopes(
        (s) => ({ inventory: new Ec2InstanceInventory(clients.ec2(s)) }),
        () => TOPOLOGY,
      ).inventory,
      audit: new InMemoryAuditSink(),
      messageRetry: { after: async () => undefined },
      pacing: PACING,
    },
    { ...DNS, absentAfter: 900, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/bench' },
    { now: () => new Date(w.now.ms), gate: REPORT_ONLY_GATE },
  );
  for (const batch of batchesOf(arrivals)) {
    w.now.ms = (batch.at(-1) as Arrival).atMs + 1000;
    const Records = batch.map(
      ({ n, atMs }) => sqsRecord(stateChangeEvent(iid(n), 'running', atMs), `m-${n}`, atMs) as SQSRecord,
    );
    await handler({ Records }, undefined as never);
  }
  return count.route53;
}

/** The same burst split by scope (one dns-sync batch per scope group), fresh zone: its Route 53 calls. */
async function splitRoute53(w: World, arrivals: Arrival[]): Promise<number> {
  const split = await burstOnce(
    w,
    seamClients(w, 'fleetwarden-dns-sync'),
    new InMemoryRoute53().addZone('ZFWD', 'example.com'),
    arrivals,
    'by-scope',
  );
  return [...split.per.values()].reduce((a, x) => a + x.route53, 0);
}

type BurstRow = ScopeRow & { events: number; batches: number; route53: number };
const sumOf = (rows: readonly BurstRow[], k: 'assumeRole' | 'describeInstances' | 'route53') =>
  rows.reduce((a, x) => a + x[k], 0);

async function burstRun(w: World) {
  const arrivals = burstArrivals(w);
  resetCounts(w);
  let r: Awaited<ReturnType<typeof burstOnce>> | undefined;
  const cpu = await cpuMs(async () => {
    r = await burstOnce(w, seamClients(w, 'fleetwarden-dns-sync'), w.route53, arrivals);
  })();
  const done = r as Awaited<ReturnType<typeof burstOnce>>;
  const rows = rowsOf(w).map((row) => ({ ...row, ...done.per.get(row.scope) })) as BurstRow[];
  const names = new Set(arrivals.map((a) => `${dnsName(a.n)}.`));
  // the naive side: the same burst, a new client (one AssumeRole in a spoke) per call, fresh zone
  resetCounts(w);
  const naive = await burstOnce(
    w,
    perCallClients(w),
    new InMemoryRoute53().addZone('ZFWD', 'example.com'),
    arrivals,
  );
  const naiveRows = rowsOf(w).map((row) => ({ ...row, ...naive.per.get(row.scope) })) as BurstRow[];
  const spokes = naiveRows.filter((x) => x.scope !== HUB.key);
  return {
    events: arrivals.length,
    batches: batchesOf(arrivals).length,
    forwardARecords: w.route53.records('ZFWD').filter((x) => x.type === 'A' && names.has(x.name)).length,
    failedMessages: done.failedMessages,
    refused: done.refused,
    rows,
    // the busiest scope's share of the calls made for its events (EC2, STS, Route 53) over its share of events
    busiest: busiestOf(rows.map((x) => ({ ...x, instances: x.events, terminate: x.route53 }))),
    cpuMs: cpu,
    naive: {
      assumeRole: sumOf(spokes, 'assumeRole'),
      spokeDescribeInstances: sumOf(spokes, 'describeInstances'),
      route53: sumOf(naiveRows, 'route53'),
    },
    unsplitRoute53: await unsplitRoute53(w, arrivals),
    // the design it replaced, run for real: each scope group its own dns-sync batch
    splitRoute53: await splitRoute53(w, arrivals),
  };
}

export async function multiAccountAtScale(instances = 100_000, ghosts = 100) {
  defs ??= await definitions();
  const w = world(instances, ghosts);
  const sweep = await sweepRun(w);
  const reconcile = await reconcileRun(w);
  const burst = await burstRun(w);
  return { instances: w.instances, sweep, reconcile, burst };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const cpu = (c: { total: number; fakes: number }) =>
  `CPU ${fmt(Math.round(c.total))} ms (fakes ${fmt(Math.round(c.fakes))})`;
const pad = (v: number | string, n: number) => String(typeof v === 'number' ? fmt(v) : v).padStart(n);
type Row = ScopeRow & { route53?: number; events?: number };

function table(title: string, rows: readonly Row[], extra?: string) {
  console.log(`  ${title}`);
  console.log(
    `    ${'scope'.padEnd(30)}${pad('instances', 10)}${pad('Describe', 10)}${pad('ASG', 6)}${pad('STS', 6)}${extra ? pad(extra, 10) : ''}`,
  );
  const line = (label: string, r: Row) =>
    console.log(
      `    ${label.padEnd(30)}${pad(r.events ?? r.instances, 10)}${pad(r.describeInstances, 10)}${pad(r.autoScaling, 6)}${pad(r.assumeRole, 6)}${extra ? pad(r.route53 ?? 0, 10) : ''}`,
    );
  const sum = (group: readonly Row[]): Row => {
    const out: Row = { ...(group[0] as Row), ...zero(), instances: 0, events: undefined, route53: 0 };
    for (const r of group) {
      out.instances += r.instances;
      if (r.events !== undefined) out.events = (out.events ?? 0) + r.events;
      out.describeInstances += r.describeInstances;
      out.autoScaling += r.autoScaling;
      out.assumeRole += r.assumeRole;
      out.route53 = (out.route53 ?? 0) + (r.route53 ?? 0);
    }
    return out;
  };
  for (const r of rows) line(`${r.scope}${r.scope === HUB.key ? ' (hub)' : ''}`, r);
  for (const a of new Set(rows.map((r) => r.account)))
    line(`account ${a}`, sum(rows.filter((r) => r.account === a)));
  for (const g of new Set(rows.map((r) => r.region)))
    line(`region ${g}`, sum(rows.filter((r) => r.region === g)));
  line('total', sum(rows));
}

export async function run(): Promise<void> {
  const r = await multiAccountAtScale();
  const total = (rows: readonly Counts[], k: keyof Counts) => rows.reduce((a, x) => a + x[k], 0);
  console.log(
    `hub and spokes: ${fmt(r.instances)} instances over 3 accounts x 2 regions (40/20/15/10/10/5 %), EC2 pages of 1,000`,
  );
  table(`(a) runner-sweep across scopes (${r.sweep.ghosts} ghost runners)`, r.sweep.rows);
  console.log(
    `    GitHub: ${fmt(r.sweep.githubListPages)} list pages (per_page 100) + ${r.sweep.githubDeletes} DELETE; deregistered ${r.sweep.deregistered}; busiest ${r.sweep.busiest.scope}: ${r.sweep.busiest.ratio.toFixed(2)}x its instance share; ${cpu(r.sweep.cpuMs)}`,
  );
  console.log(
    `    naive (new client per call): ${total(r.sweep.naive.rows, 'assumeRole')} AssumeRole vs ${total(r.sweep.rows, 'assumeRole')} (${(total(r.sweep.naive.rows, 'assumeRole') / total(r.sweep.rows, 'assumeRole')).toFixed(1)}x), same ${total(r.sweep.naive.rows, 'describeInstances')} DescribeInstances, deregistered ${r.sweep.naive.deregistered}; ${cpu(r.sweep.naive.cpuMs)}`,
  );
  table('(a) dns-reconcile across scopes (zone in sync: 200,000 record sets)', r.reconcile.rows);
  console.log(
    `    Route 53 (hub zone): ${fmt(r.reconcile.route53Lists)} List + ${r.reconcile.route53Changes} Change; busiest ${r.reconcile.busiest.scope}: ${r.reconcile.busiest.ratio.toFixed(2)}x; ${cpu(r.reconcile.cpuMs)}`,
  );
  table(
    `(b) ${fmt(r.burst.events)} state-change events through routeByScope into dns-sync (${r.burst.batches} SQS batches as deployed; first column: events)`,
    r.burst.rows,
    'Route 53',
  );
  console.log(
    `    ${r.burst.forwardARecords} A records written, ${r.burst.failedMessages} failed, ${r.burst.refused} refused; busiest ${r.burst.busiest.scope}: ${r.burst.busiest.ratio.toFixed(2)}x its event share; ${cpu(r.burst.cpuMs)}`,
  );
  console.log(
    `    naive (new client per call): ${r.burst.naive.assumeRole} AssumeRole vs ${total(r.burst.rows, 'assumeRole')} (${(r.burst.naive.assumeRole / Math.max(1, total(r.burst.rows, 'assumeRole'))).toFixed(1)}x)`,
  );
  console.log(
    `    Route 53 on a fresh zone: ${r.burst.naive.route53} calls (one plan per SQS batch across scopes) vs ${r.burst.unsplitRoute53} for the same batches unsplit (${(r.burst.naive.route53 / r.burst.unsplitRoute53).toFixed(1)}x); split by scope as before: ${r.burst.splitRoute53} (${(r.burst.splitRoute53 / r.burst.unsplitRoute53).toFixed(1)}x)`,
  );
}
