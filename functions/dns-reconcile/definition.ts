import { parse } from '@aws-lambda-powertools/parser';
import type { Context } from 'aws-lambda';
import type { UnreadableRecord } from '../../shared/audit/store-port';
import { AUDIT_TABLE } from '../../shared/audit/table-design';
import { type LookupQuery, lookupAll, trailRegionFor } from '../../shared/cloudtrail/port';
import { MalformedEventError } from '../../shared/core/errors';
import { EventBridgeSchema } from '../../shared/core/eventbridge-schema';
import { budgeted, type SyncResult, syncDns } from '../../shared/dns/apply';
import { DNS_RECORD_KINDS, recordDecision } from '../../shared/dns/decisions';
import { DnsRepairFailedError } from '../../shared/dns/errors';
import { optInReason } from '../../shared/dns/opt-in';
import type { PlanDecision } from '../../shared/dns/planner';
import { observeFleet, planReconcile } from '../../shared/dns/reconcile';
import { type ReadDue, zoneReadDue } from '../../shared/dns/reconcile-due';
import { expectedRecordOf, readOnEvidence, type TrailLookup } from '../../shared/dns/reconcile-evidence';
import { foreignZoneChanges, type TrailLook, trailWindow } from '../../shared/dns/reconcile-trail';
import {
  DNS_SETTINGS,
  dnsReads,
  optInOf,
  planConfigOf,
  primaryZoneName,
  route53ChangeGrants,
  zoneSetOfSettings,
} from '../../shared/dns/settings';
import { invocationPace } from '../../shared/dns/zone-reader';
import type { InstanceInfo, InstanceInventory, InstanceState } from '../../shared/ec2/port';
import {
  type ActResult,
  allowance,
  perform,
  type RunKit,
  recordFailure,
  recordNote,
} from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Remediation, Runtime } from '../../shared/kernel/remediation';
import { type SettingsOf, setting } from '../../shared/kernel/settings';
import { logger, metrics } from '../../shared/observability/powertools';

export interface ReconcileSummary {
  facts: number;
  acted: number;
  wouldAct: number;
  refused: number;
  requests: number;
  dryRun: boolean;
  /** Whether this run read the zone (see shared/dns/reconcile-due.ts), and why. */
  zoneRead: boolean;
  why: string;
}

const FUNCTION = 'dns-reconcile';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const AUDIT_TABLE_ARN = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/';
const ALREADY = 'already in the desired state';

const settings = {
  ...DNS_SETTINGS,
  tombstoneHours: setting.number('TOMBSTONE_HOURS', {
    doc: 'How long a terminated/stopped tombstone marker is kept before reconcile deletes it (hours).',
    default: 24,
    min: 1,
    max: 24 * 90,
  }),
  settle: setting.seconds('SETTLE_SECONDS', {
    doc: 'Observations are dated this far back, so events applied within the window win over DescribeInstances lag.',
    default: 300,
    min: 0,
    max: 3600,
  }),
  schedule: setting.seconds('SCHEDULE_SECONDS', {
    doc: "The reconcile schedule's period (written by the construct from `reconcileSchedule`): a change this recent (twice over, plus the settle window) makes the run read the zone.",
    default: 900,
    min: 60,
    max: 86400,
  }),
  fullReadEvery: setting.seconds('FULL_READ_SECONDS', {
    doc: "The backstop: the first run of each such period reads the whole zone whatever the fleet and CloudTrail say (CloudTrail delivery is best effort): drift whose CloudTrail event never arrives within TRAIL_DELAY_SECONDS is repaired within this plus one schedule period. Other runs read only when an instance of the fleet launched or changed state lately and dns-sync's audit records do not prove it handled that change, or when CloudTrail shows a change to the zone by anyone but the fleet's DNS writers. A zone in another account (ZONES `account`) is not looked up in CloudTrail: such a fleet reads at least hourly.",
    default: 86400,
    min: 60,
    max: 86400,
  }),
  trailDelay: setting.seconds('TRAIL_DELAY_SECONDS', {
    doc: 'How late a CloudTrail event may arrive and still be seen: each run looks up the zone changes of one schedule period plus this (LookupEvents, EventName ChangeResourceRecordSets, us-east-1). A change made outside the fleet and delivered within this is repaired within this plus one schedule period.',
    default: 900,
    min: 0,
    max: 3600,
  }),
  writerRoles: setting.list('DNS_WRITER_ROLE_ARNS', {
    doc: "The IAM role ARNs of the fleet's DNS writers (dns-sync, dns-reconcile; written by the construct): a zone change in CloudTrail whose session issuer is one of them is the fleet's own. Any other change to the zone reads it.",
    default: [],
    pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/,
    bounds: 'IAM role ARNs',
  }),
  evidenceMax: setting.integer('EVIDENCE_MAX_INSTANCES', {
    doc: "Changed instances a run checks against dns-sync's audit records (one DynamoDB Query each) instead of reading the zone; more, and the run reads the zone (a burst: as cheap as the queries, and when events get lost). 0: every change reads the zone.",
    default: 50,
    min: 0,
    max: 1000,
  }),
};
type Settings = SettingsOf<typeof settings>;
type PortName = 'audit' | 'auditStore' | 'route53' | 'inventory' | 'pacing' | 'cloudTrail';

interface Run {
  ports: PortsOf<PortName>;
  settings: Settings;
  runtime: Runtime;
  context: Context | undefined;
}

function parseSchedule(event: unknown) {
  const parsed = parse(event, undefined, EventBridgeSchema, true);
  if (!parsed.success) {
    throw new MalformedEventError(
      `dns-reconcile expects a scheduled EventBridge event: ${parsed.error.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

function kitOf(run: Run, scheduleId: string, detailType: string): RunKit {
  const now = run.runtime.now;
  return {
    spec: dnsReconcile,
    audit: run.ports.audit,
    ctx: {
      function: FUNCTION,
      trigger: { source: 'fleetwarden.schedule', id: scheduleId, detailType, time: now().toISOString() },
      mode: run.settings.dryRun ? 'dry-run' : 'live',
      now,
      // EventBridge / Lambda async can deliver one event twice (another request id), and Lambda
      // retries a failed run under the same request id: each invocation keeps its own records
      ...(run.context?.awsRequestId
        ? { deliveryId: `${run.context.awsRequestId}@${now().toISOString()}` }
        : {}),
    },
    dryRun: run.settings.dryRun,
    gate: run.runtime.gate,
    allowance: allowance(Number.POSITIVE_INFINITY),
  };
}

/** Every state DescribeInstances lists: the live ones observeFleet plans from, and terminated (about an hour). */
const LISTED: InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

/**
 * The run's one DescribeInstances listing (terminated included), shared by the read decision and
 * the plan (a re-plan sees the same listing): `listInStates` filters it, `describe` still asks EC2.
 */
async function listedOnce(
  inventory: InstanceInventory,
): Promise<{ all: InstanceInfo[]; inventory: InstanceInventory }> {
  const all = await inventory.listInStates(LISTED);
  return {
    all,
    inventory: {
      describe: (ids) => inventory.describe(ids),
      listByTag: (key, value) => inventory.listByTag(key, value),
      listInStates: async (states) => all.filter((i) => states.includes(i.state)),
    },
  };
}

/**
 * Whether the run reads the zone: a full-read slot, or an instance of the fleet that changed lately
 * and whose change dns-sync's audit records do not prove handled (shared/dns/reconcile-evidence.ts).
 */
async function readDue(run: Run, scheduledTime: string, listed: readonly InstanceInfo[]): Promise<ReadDue> {
  const s = run.settings;
  const rule = { ...optInOf(s), nameTag: s.nameTag };
  const at = Date.parse(scheduledTime);
  const scheduledAt = new Date(Number.isNaN(at) ? run.runtime.now().getTime() : at);
  const zones = zoneSetOfSettings(s);
  // a zone of another account: its CloudTrail is not looked up, so the hourly full read stays
  const lookable = zones.zones.every((z) => !z.account);
  const fullReadEvery = lookable ? s.fullReadEvery : Math.min(s.fullReadEvery, 3600);
  const due = zoneReadDue({
    scheduledAt,
    periodMs: s.schedule * 1000,
    fullReadEveryMs: fullReadEvery * 1000,
    lookbackMs: (2 * s.schedule + s.settle) * 1000,
    fleet: listed.filter((i) => optInReason(i.tags, rule) !== undefined),
    maxChecked: s.evidenceMax,
  });
  const onEvidence =
    due.read === 'unless-handled'
      ? await readOnEvidence(due, (info) => expectedRecordOf(info, zones, s.nameTag), trailOf(run))
      : due;
  if (onEvidence.read || !lookable) return onEvidence;
  return lookTrail(run, scheduledAt, onEvidence);
}

/** At most this many LookupEvents pages (50 events each) per run; more: read. */
const TRAIL_MAX_PAGES = 4;

/**
 * The zone changes CloudTrail has for this run's window (shared/dns/reconcile-trail.ts): one made
 * outside the fleet, or a failed or incomplete lookup, reads the zone.
 */
async function lookTrail(run: Run, scheduledAt: Date, due: ReadDue): Promise<ReadDue> {
  const s = run.settings;
  const window = trailWindow(scheduledAt, s.schedule * 1000, s.trailDelay * 1000);
  const query: Omit<LookupQuery, 'nextToken'> = {
    region: trailRegionFor('Route53', process.env.AWS_REGION ?? 'us-east-1'),
    attribute: { key: 'EventName', value: 'ChangeResourceRecordSets' },
    ...window,
  };
  const span = { since: window.start.toISOString(), until: window.end.toISOString() };
  let look: TrailLook;
  try {
    const r = await lookupAll(run.ports.cloudTrail, query, { maxPages: TRAIL_MAX_PAGES });
    look = { events: r.events, complete: r.complete, skipped: r.skipped.map((x) => x.eventId) };
  } catch (err) {
    // the safe direction: the zone is read, and the run record names the error
    logger.warn('dns-reconcile could not look up CloudTrail', { error: String(err) });
    return {
      read: true,
      reason: `the CloudTrail lookup failed (${String(err)})`,
      trail: { ...span, error: String(err) },
    };
  }
  const v = foreignZoneChanges(
    look,
    zoneSetOfSettings(s).zones.map((z) => z.id),
    s.writerRoles,
  );
  const trail = { ...span, foreignEventIds: v.foreignEventIds, fleetEventIds: v.fleetEventIds };
  if (v.read) return { read: true, reason: v.reason, trail };
  return { ...due, reason: `${due.reason}; ${v.reason}`, trail };
}

/** An instance's audit records since its change (the byInstance index), unreadable ones apart. */
function trailOf(run: Run): TrailLookup {
  return async (instanceId, since) => {
    const unreadable: UnreadableRecord[] = [];
    const records = await run.ports.auditStore
      .timeline({ kind: 'instance', instanceId }, { since, onUnreadable: (u) => unreadable.push(u) })
      .catch((err: unknown) => {
        // the run reads the zone instead (readOnEvidence names the error in its record)
        logger.warn('dns-reconcile could not read the audit trail', { instanceId, error: String(err) });
        throw err;
      });
    return { records, unreadable };
  };
}

/** The reconcile action: observe the fleet, read the zone, plan the repairs, write them (dry run: plan only). */
async function reconcile(
  run: Run,
  kit: RunKit,
  scheduleId: string,
  due: ReadDue,
): Promise<{ result: SyncResult; facts: number }> {
  let facts = 0;
  let result: SyncResult | undefined;
  const { settings: s, ports } = run;
  const sync = (dry: boolean) => async (): Promise<ActResult> => {
    const r = await syncDns({
      port: ports.route53,
      zones: zoneSetOfSettings(s),
      policy: budgeted(ports.pacing, run.context),
      pace: invocationPace(ports.pacing.sleep),
      dryRun: dry,
      comment: `fleetwarden ${FUNCTION} ${scheduleId}`,
      plan: async (records) => {
        const at = run.runtime.now();
        const observed = await observeFleet({
          inventory: ports.inventory,
          nameTag: s.nameTag,
          optIn: optInOf(s),
          owner: s.ownerId,
          zones: [...records.values()],
          observedAt: new Date(at.getTime() - s.settle * 1000).toISOString(),
        });
        facts = observed.length;
        const tombstoneMs = s.tombstoneHours * 3_600_000;
        return planReconcile({
          config: planConfigOf(s),
          records,
          facts: observed,
          now: at,
          tombstoneMs,
        });
      },
    });
    result = r;
    const acting = r.decisions.filter((d) => d.decision === 'acted').length;
    return {
      decision: r.requests.length > 0 ? 'acted' : 'skipped',
      reason: `${facts} instance(s) observed; ${acting} repair(s)${dry ? ' would be made (dry run)' : ` in ${r.requests.length} request(s)`}`,
      details: { requests: r.requests, replans: r.replans, facts, ...whyRead(due) },
    };
  };
  const planned = {
    kind: 'reconcile',
    subject: { recordName: primaryZoneName(s) },
    reason: 'repair DNS drift',
  };
  await perform(kit, planned, sync(s.dryRun), sync(true));
  return { result: result as SyncResult, facts };
}

/** Why the run read the zone, and the evidence checked, for its record. */
const whyRead = (due: ReadDue) => ({
  readBecause: due.reason,
  ...(due.evidence ? { evidence: due.evidence } : {}),
  ...(due.trail ? { trail: due.trail } : {}),
});

/**
 * One audit record per decision that did (or in dry run would do) something, or refused to; then
 * one failed record per instance whose changes Route 53 rejected (isolated by syncDns; everything
 * else was written).
 */
async function recordDecisions(kit: RunKit, result: SyncResult): Promise<void> {
  const worth = (d: PlanDecision) => !(d.decision === 'skipped' && d.reason.startsWith(ALREADY));
  for (const d of result.decisions.filter(worth)) {
    const subject = { instanceId: d.instanceId, ...(d.recordName ? { recordName: d.recordName } : {}) };
    await recordDecision(kit, d.action, d, subject, d.details);
  }
  for (const f of result.failures) {
    const d = result.planned.decisions.find((x) => x.instanceId === f.instanceId);
    const subject = { instanceId: f.instanceId, ...(d?.recordName ? { recordName: d.recordName } : {}) };
    await recordFailure(kit, { audit: d?.action ?? 'dns.upsert', subject }, f.error).catch((err: unknown) => {
      if (err !== f.error) throw err;
    });
  }
}

async function run(given: Run, event: unknown): Promise<ReconcileSummary> {
  const schedule = parseSchedule(event);
  const kit = kitOf(given, schedule.id, schedule['detail-type']);
  const listed = await listedOnce(given.ports.inventory);
  const r: Run = { ...given, ports: { ...given.ports, inventory: listed.inventory } };
  const due = await readDue(r, String(schedule.time), listed.all);
  if (!due.read) return quiet(r, kit, schedule.id, due);
  const { result, facts } = await reconcile(r, kit, schedule.id, due);
  await recordDecisions(kit, result);
  const dryRun = r.settings.dryRun;
  const acted = result.decisions.filter((d) => d.decision === 'acted').length;
  const summary: ReconcileSummary = {
    facts,
    acted: dryRun ? 0 : acted,
    wouldAct: dryRun ? acted : 0,
    refused: result.decisions.filter((d) => d.decision === 'refused').length,
    requests: result.requests.length,
    dryRun,
    zoneRead: true,
    why: due.reason,
  };
  logger.info('dns-reconcile run', { scheduleEventId: schedule.id, ...summary });
  metrics.addMetric('DnsReconcileZoneReads', 'Count', 1);
  metrics.addMetric(dryRun ? 'DnsReconcileWouldRepair' : 'DnsReconcileRepairs', 'Count', acted);
  metrics.addMetric('DnsReconcileRefused', 'Count', summary.refused);
  metrics.addMetric('DnsReconcileFailed', 'Count', result.failures.length);
  if (result.failures.length > 0) {
    // the run fails so the alarm fires and the schedule retries
    throw new DnsRepairFailedError(
      `${result.failures.length} instance(s) not repaired, Route 53 rejected their changes: ${result.failures.map((f) => f.instanceId).join(', ')}`,
      { cause: result.failures[0]?.error },
    );
  }
  return summary;
}

/** A run with nothing that may have drifted: no Route 53 call, one audit record saying why and when the next full read is. */
async function quiet(r: Run, kit: RunKit, scheduleId: string, due: ReadDue): Promise<ReconcileSummary> {
  await recordNote(kit, {
    kind: 'note',
    audit: 'dns.reconcile',
    decision: 'skipped',
    subject: { recordName: primaryZoneName(r.settings) },
    reason: `zone not read: ${due.reason}`,
    details: {
      ...(due.evidence ? { evidence: due.evidence } : {}),
      ...(due.trail ? { trail: due.trail } : {}),
    },
  });
  const summary: ReconcileSummary = {
    facts: 0,
    acted: 0,
    wouldAct: 0,
    refused: 0,
    requests: 0,
    dryRun: r.settings.dryRun,
    zoneRead: false,
    why: due.reason,
  };
  logger.info('dns-reconcile run', { scheduleEventId: scheduleId, ...summary });
  metrics.addMetric('DnsReconcileZoneReads', 'Count', 0);
  return summary;
}

/** dns-reconcile: on a schedule, compares the zone with the fleet and repairs DNS drift. */
export const dnsReconcile: Remediation<
  typeof settings,
  'reconcile' | 'upsert' | 'delete' | 'expireTombstone',
  PortName,
  unknown,
  ReconcileSummary
> = {
  name: FUNCTION,
  summary: 'Compares the zone with the fleet and repairs DNS drift, respecting ownership markers',
  entry: 'functions/dns-reconcile/index.ts',
  triggers: [{ kind: 'schedule', minutes: 15 }],
  settings,
  actions: {
    reconcile: {
      audit: 'dns.reconcile',
      does: 'write the repairs of DNS drift (one ChangeResourceRecordSets per zone)',
      reversible: true,
      weight: 0,
      iam: route53ChangeGrants,
      calls: ['Route53.ChangeResourceRecordSets'],
    },
    ...DNS_RECORD_KINDS,
  },
  reads: (s) => [
    ...dnsReads(s),
    // zone changes made outside the fleet (reconcile-trail.ts); LookupEvents supports no resource-level permissions
    { actions: ['cloudtrail:LookupEvents'], resources: ['*'] },
    // dns-sync's records of a changed instance (reconcile-evidence.ts): the byInstance index only
    {
      actions: ['dynamodb:Query'],
      resources: [`${AUDIT_TABLE_ARN}${s.auditTable}/index/${AUDIT_TABLE.indexes.byInstance.name}`],
    },
  ],
  ports: ['audit', 'auditStore', 'route53', 'inventory', 'pacing', 'cloudTrail'],
  create: (ports, values, runtime) => (event, context) =>
    run({ ports, settings: values, runtime, context }, event),
};
