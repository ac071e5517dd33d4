import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AuditContext, sqsDelivery } from '../../shared/audit/audited-action';
import { budgeted, type SyncResult, syncDns } from '../../shared/dns/apply';
import { DNS_RECORD_KINDS, recordDecision } from '../../shared/dns/decisions';
import { InstanceFactsUnavailableError, InvalidChangeBatchError } from '../../shared/dns/errors';
import { planDns } from '../../shared/dns/planner';
import {
  DNS_SETTINGS,
  dnsReads,
  optInOf,
  planConfigOf,
  primaryZoneName,
  route53ChangeGrants,
  zoneSetOfSettings,
} from '../../shared/dns/settings';
import {
  DNS_SYNC_STATES,
  EC2_STATE_CHANGE_DETAIL_TYPE,
  TAG_CHANGE_DETAIL_TYPE,
} from '../../shared/dns/state-change';
import { forwardNamesOf, reverseNamesOf } from '../../shared/dns/touched-names';
import { invocationPace } from '../../shared/dns/zone-reader';
import {
  type ActResult,
  allowance,
  perform,
  type RunKit,
  recordFailure,
  recordNote,
} from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import { type Remediation, type Runtime } from '../../shared/kernel/remediation';
import { type SettingsOf, setting } from '../../shared/kernel/settings';
import { sqsBatch } from '../../shared/kernel/sqs-batch';
import { logger, metrics } from '../../shared/observability/powertools';
import { type Applied, type Batch, batchTrigger, outcomeOf, type Parsed, readBatch } from './batch';

/** First retry of a message whose instance DescribeInstances does not show yet (lag is seconds, not minutes). */
export const LAG_RETRY_SECONDS = 20;

const FUNCTION = 'dns-sync';

const settings = {
  ...DNS_SETTINGS,
  absentAfter: setting.seconds('ABSENT_AFTER_SECONDS', {
    doc: 'A running event older than this whose instance DescribeInstances cannot show is skipped, not retried.',
    default: 900,
    min: 60,
    max: 86_400,
  }),
  /**
   * The queue's own URL (from the construct): the lag retry's ChangeMessageVisibility goes to its host.
   * Checked as non-empty (the simulator's synthesized environment renders it "sim-<logical id>").
   */
  queueUrl: setting.string('QUEUE_URL', { doc: "The function's own queue URL (the lag retry's endpoint)." }),
};
type Settings = SettingsOf<typeof settings>;
type Ports = PortsOf<'audit' | 'route53' | 'inventory' | 'messageRetry' | 'pacing'>;
type Kind = 'changeBatch' | 'upsert' | 'delete';

/** The run: what every step of one invocation shares. */
interface Run {
  ports: Ports;
  settings: Settings;
  runtime: Runtime;
  context: Context | undefined;
}

const kitOf = (run: Run, ctx: Omit<AuditContext, 'function' | 'mode' | 'now'>): RunKit => ({
  spec: dnsSync,
  audit: run.ports.audit,
  ctx: { function: FUNCTION, mode: run.settings.dryRun ? 'dry-run' : 'live', now: run.runtime.now, ...ctx },
  dryRun: run.settings.dryRun,
  gate: run.runtime.gate,
  allowance: allowance(Number.POSITIVE_INFINITY),
});

/**
 * The batch action: read the zone(s), plan every winning fact, write one request per zone (dry run:
 * read and plan only). A request that fails fails only the instances whose changes it carried (their
 * messages are retried, the others succeed); the action itself fails when nothing could be written
 * for that reason, or on any other error (a zone read, the audit), which fails every acting message.
 */
async function applyBatch(run: Run, event: SQSEvent, b: Batch): Promise<Applied> {
  if (b.winners.length === 0) return {};
  const trigger = batchTrigger(event, b);
  const attempt = Math.max(...[...b.winnerOf.values()].map((w) => b.attemptOf.get(w.key) ?? 1));
  const kit = kitOf(run, { trigger, attempt });
  let result: SyncResult | undefined;
  // the act's own failure (Route 53 refused every request it sent): answered per instance from `result`
  let unwritten: Error | undefined;
  const sync = (dry: boolean) => async (): Promise<ActResult> => {
    const r = await syncBatch(run, b, trigger.id, dry);
    result = r;
    const lost = r.failures.find((f) => !(f.error instanceof InvalidChangeBatchError));
    if (lost && r.requests.length === 0) {
      unwritten = lost.error;
      throw unwritten;
    }
    return batchOutcome(b, r, dry);
  };
  const planned = {
    kind: 'changeBatch',
    subject: { recordName: primaryZoneName(run.settings) },
    reason: `write the DNS changes of ${b.winners.length} instance(s)`,
  };
  try {
    await perform(kit, planned, sync(run.settings.dryRun), sync(true));
    return { result };
  } catch (err) {
    return err === unwritten ? { result, error: err as Error } : { error: err as Error };
  }
}

/** Read the names the batch touches, plan its winning facts, write (or in a dry run, not). */
function syncBatch(run: Run, b: Batch, triggerId: string, dry: boolean): Promise<SyncResult> {
  const config = planConfigOf(run.settings);
  return syncDns({
    port: run.ports.route53,
    zones: zoneSetOfSettings(run.settings),
    policy: budgeted(run.ports.pacing, run.context),
    pace: invocationPace(run.ports.pacing.sleep),
    // only the names the batch touches: the cost follows the batch, not the zone
    names: {
      reverse: (forward) => reverseNamesOf(b.winners, config, forward),
      forward: (reverse) => forwardNamesOf(b.winners, config, reverse),
    },
    dryRun: dry,
    // a failed request fails its own instances' messages, not the whole batch's
    isolateFailures: true,
    comment: `fleetwarden ${FUNCTION} ${triggerId}`,
    plan: (records) => planDns({ config, records, facts: b.winners }),
  });
}

/** The batch action's record: what was written, re-planned and failed. */
function batchOutcome(b: Batch, r: SyncResult, dry: boolean): ActResult {
  const changes = r.planned.forward.concat(r.planned.reverse).reduce((n, u) => n + u.changes.length, 0);
  const failed = r.failures.length > 0 ? `; ${r.failures.length} instance(s) failed` : '';
  return {
    decision: r.requests.length > 0 ? 'acted' : 'skipped',
    reason: `${b.winners.length} instance(s), ${changes} change(s) in ${r.requests.length} request(s)${failed}${dry ? ' (dry run: not sent)' : ''}`,
    details: {
      requests: r.requests,
      replans: r.replans,
      failures: r.failures.map((f) => ({
        instanceId: f.instanceId,
        zoneId: f.zoneId,
        error: f.error.message,
      })),
      events: [...b.winnerOf.values()].map((w) => w.event.id),
    },
  };
}

/** One message's record: malformed (failed), failed, skipped, refused, or its instance's decision. */
async function recordMessage(run: Run, b: Batch, applied: Applied, record: SQSRecord): Promise<void> {
  const p = b.parsed.get(record.messageId) as Parsed;
  if (p.kind === 'malformed') {
    const error = p.error;
    const trigger = { source: 'aws.sqs', id: record.messageId, detailType: 'malformed message' };
    const kit = kitOf(run, { ...sqsDelivery(record), trigger });
    // every message that fails for good leaves a record: a malformed one fails on every receive
    return recordFailure(
      kit,
      { audit: 'dns.malformed-message', subject: { recordName: primaryZoneName(run.settings) } },
      error,
    );
  }
  const e = p.event;
  const o = outcomeOf(b, applied, record.messageId, e);
  const trigger = { source: e.source, id: e.id, detailType: e.detailType, time: e.time };
  const kit = kitOf(run, { ...sqsDelivery(record), trigger });
  const recordName = o.decision?.recordName;
  const subject = { instanceId: e.instanceId, ...(recordName ? { recordName } : {}) };
  const action = e.state === 'running' ? 'dns.upsert' : 'dns.delete';
  if (o.error) {
    if (o.error instanceof InstanceFactsUnavailableError) await retrySooner(run, record);
    return recordFailure(kit, { audit: action, subject }, o.error);
  }
  if (o.skip)
    return recordNote(kit, { kind: 'note', audit: action, decision: 'skipped', subject, reason: o.skip });
  if (o.refuse) {
    const details = { ...o.refuse.details, state: e.state };
    return recordNote(kit, {
      kind: 'note',
      audit: action,
      decision: 'refused',
      subject,
      reason: o.refuse.reason,
      details,
    });
  }
  const d = o.decision as NonNullable<typeof o.decision>;
  const details = { ...d.details, state: e.state, ...(e.tags ? { trigger: 'tag-change' } : {}) };
  return recordDecision(kit, action, d, subject, details);
}

/**
 * A message whose instance DescribeInstances does not show yet comes back after LAG_RETRY_SECONDS on
 * its first receive only: later retries keep the queue's visibility timeout, so a message still ages
 * past ABSENT_AFTER_SECONDS (and is skipped) before maxReceiveCount.
 */
async function retrySooner(run: Run, record: SQSRecord): Promise<void> {
  if (sqsDelivery(record).attempt !== 1) return;
  await run.ports.messageRetry.after(record, LAG_RETRY_SECONDS).catch((err: unknown) => {
    // the message fails either way; it then comes back after the visibility timeout
    logger.warn('could not shorten the retry of a lagging instance', { error: String(err) });
  });
}

async function handleBatch(run: Run, event: SQSEvent): Promise<SQSBatchResponse> {
  const b = await readBatch(event, {
    inventory: run.ports.inventory,
    nameTag: run.settings.nameTag,
    optIn: optInOf(run.settings),
    now: run.runtime.now(),
    absentAfterMs: run.settings.absentAfter * 1000,
    // an instance unseen in its event's scope is looked for in the others before it counts as gone
    topology: run.runtime.topology,
  });
  const applied = await applyBatch(run, event, b);
  const response = await sqsBatch(event, run.context, (r) => recordMessage(run, b, applied, r), {
    throwOnFullBatchFailure: false,
  });
  const failed = response.batchItemFailures.length;
  const requests = applied.result?.requests.length ?? 0;
  logger.info('dns-sync batch', {
    messages: event.Records.length,
    instances: b.winners.length,
    requests,
    failed,
    dryRun: run.settings.dryRun,
    ...(applied.error ? { error: `${applied.error.name}: ${applied.error.message}` } : {}),
  });
  metrics.addMetric('DnsChangeRequests', 'Count', requests);
  metrics.addMetric('DnsSyncFailedMessages', 'Count', failed);
  return response;
}

/** dns-sync: DNS follows EC2 state and name-tag changes, one batch of events at a time. */
export const dnsSync: Remediation<
  typeof settings,
  Kind,
  'audit' | 'route53' | 'inventory' | 'messageRetry' | 'pacing',
  SQSEvent,
  SQSBatchResponse
> = {
  name: FUNCTION,
  summary: 'Keeps Route 53 A/PTR records in step with EC2 instance state changes (batched, ownership-marked)',
  entry: 'functions/dns-sync/index.ts',
  // hub and spokes: one Route 53 plan per SQS batch, each event still described in its own scope
  scopeBatches: 'whole',
  triggers: [
    {
      kind: 'events',
      id: 'StateChangeRule',
      bus: 'default',
      pattern: {
        source: ['aws.ec2'],
        detailType: [EC2_STATE_CHANGE_DETAIL_TYPE],
        detail: { state: [...DNS_SYNC_STATES] },
      },
      delivery: 'queue',
    },
    {
      kind: 'events',
      id: 'NameTagChangeRule',
      bus: 'default',
      // tags that arrive after launch: the name tag (NAME_TAG) changing renames the record now
      pattern: (s) => ({
        source: ['aws.tag'],
        detailType: [TAG_CHANGE_DETAIL_TYPE],
        detail: { service: ['ec2'], 'resource-type': ['instance'], 'changed-tag-keys': [s.nameTag] },
      }),
      delivery: 'queue',
    },
  ],
  settings,
  actions: {
    changeBatch: {
      audit: 'dns.change-batch',
      does: "write the batch's DNS changes (one ChangeResourceRecordSets per zone)",
      reversible: true,
      weight: 0,
      iam: route53ChangeGrants,
      calls: ['Route53.ChangeResourceRecordSets'],
    },
    upsert: DNS_RECORD_KINDS.upsert,
    delete: DNS_RECORD_KINDS.delete,
  },
  reads: dnsReads,
  needs: ['own-queue'],
  ports: ['audit', 'route53', 'inventory', 'messageRetry', 'pacing'],
  create: (ports, values, runtime) => (event, context) =>
    handleBatch({ ports, settings: values, runtime, context }, event),
};
