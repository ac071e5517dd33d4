import { createHash } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { type AuditContext, auditedAction, sqsDelivery } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import type { AuditSink } from '../../shared/audit/port';
import { envBoolean, readEnv } from '../../shared/core/env';
import { MalformedEventError } from '../../shared/core/errors';
import {
  type ApplyPolicy,
  budgeted,
  DEFAULT_APPLY_POLICY,
  type SyncResult,
  syncDns,
} from '../../shared/dns/apply';
import { InstanceFactsUnavailableError, MissingDecisionError } from '../../shared/dns/errors';
import { OWNER_ID_PATTERN } from '../../shared/dns/marker';
import { type MessageRetry, SqsMessageRetry } from '../../shared/dns/message-retry';
import type { DnsOptIn } from '../../shared/dns/opt-in';
import { type DnsPlanConfig, latestPerInstance, type PlanDecision, planDns } from '../../shared/dns/planner';
import type { Route53Port } from '../../shared/dns/port';
import { Route53ZoneAdapter } from '../../shared/dns/route53-zone-adapter';
import {
  type DnsSyncEvent,
  EC2_STATE_CHANGE_DETAIL_TYPE,
  type FactOutcome,
  factsFromEvents,
  parseDnsSyncEvent,
} from '../../shared/dns/state-change';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import type { InstanceInventory } from '../../shared/ec2/port';
import { logger, metrics } from '../../shared/observability/powertools';

/** The settings dns-sync and dns-reconcile share (the construct gives both the same environment). */
export const DnsEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  HOSTED_ZONE_ID: z.string().min(1),
  ZONE_NAME: z.string().min(1),
  REVERSE_ZONE_ID: z.string().min(1).optional(),
  REVERSE_ZONE_NAME: z.string().min(1).optional(),
  NAME_TAG: z.string().min(1).default('fleetwarden:dns-name'),
  /** Same bounds as the DnsSync construct's `ttl` prop. */
  RECORD_TTL: z.coerce.number().int().min(1).max(86_400).default(60),
  PUBLISH_PUBLIC_IP: envBoolean.default(false),
  /** Same characters as the DnsSync construct's `ownerId` prop (what a marker can carry). */
  OWNER_ID: z.string().regex(OWNER_ID_PATTERN).default('fleetwarden'),
  DRY_RUN: envBoolean.default(false),
  /** A running event older than this whose instance DescribeInstances cannot show is skipped, not retried. */
  ABSENT_AFTER_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** Instances with this tag (key and value) opt in to DNS besides the name tag. */
  FLEET_TAG_KEY: z.string().min(1).optional(),
  FLEET_TAG_VALUE: z.string().min(1).optional(),
  /** Comma-separated Auto Scaling groups whose instances opt in to DNS. */
  AUTO_SCALING_GROUP_NAMES: z.string().optional(),
});

export const DnsSyncEnv = DnsEnv.extend({
  /** The queue's own URL (from the construct): the lag retry's ChangeMessageVisibility goes to its host. */
  QUEUE_URL: z.url(),
});

export interface DnsSyncDeps {
  route53: Route53Port;
  inventory: InstanceInventory;
  audit: AuditSink;
  config: DnsPlanConfig;
  zones: { forward: string; reverse?: string | undefined };
  nameTag: string;
  /** Who opts in to DNS besides the name tag. @default the name tag only */
  optIn?: Omit<DnsOptIn, 'nameTag'> | undefined;
  dryRun: boolean;
  policy?: ApplyPolicy;
  now?: () => Date;
  absentAfterMs?: number;
  /** Brings a message whose instance DescribeInstances does not show yet back sooner than the visibility timeout. */
  retryLater?: MessageRetry;
}

/** First retry of a message whose instance DescribeInstances does not show yet (lag is seconds, not minutes). */
export const LAG_RETRY_SECONDS = 20;

const FUNCTION = 'dns-sync';

type Parsed = { kind: 'event'; event: DnsSyncEvent } | { kind: 'malformed'; error: Error };

function parseRecord(record: SQSRecord): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (err) {
    return {
      kind: 'malformed',
      error: new MalformedEventError(`message ${record.messageId} is not JSON`, { cause: err }),
    };
  }
  const result = parseDnsSyncEvent(body);
  if (!result.ok) {
    return {
      kind: 'malformed',
      error: new MalformedEventError(
        `message ${record.messageId} is not an EC2 state-change or instance tag-change event: ${result.error.message}`,
        {
          cause: result.error,
        },
      ),
    };
  }
  return { kind: 'event', event: result.event };
}

interface EventOutcome {
  decision?: PlanDecision;
  skip?: string;
  refuse?: { reason: string; details: Record<string, unknown> };
  error?: Error;
}

/**
 * Every message that fails for good leaves a record: a malformed one fails on every receive and
 * reaches the DLQ, so each receive writes a failed record under the message id, then fails.
 */
async function auditMalformed(deps: DnsSyncDeps, record: SQSRecord, error: Error, now: () => Date) {
  await auditedAction(
    deps.audit,
    {
      function: FUNCTION,
      ...sqsDelivery(record),
      trigger: { source: 'aws.sqs', id: record.messageId, detailType: 'malformed message' },
      mode: deps.dryRun ? 'dry-run' : 'live',
      now,
    },
    { action: 'dns.malformed-message', subject: { recordName: deps.config.zoneName } },
    async () => {
      throw error;
    },
  );
}

export function createHandler(deps: DnsSyncDeps) {
  const mode = deps.dryRun ? 'dry-run' : 'live';
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const now = deps.now ?? (() => new Date());
    const parsed = new Map(event.Records.map((r) => [r.messageId, parseRecord(r)]));
    const events = [...parsed.values()].flatMap((p) => (p.kind === 'event' ? [p.event] : []));
    // the batch's attempt is its most-retried message's: a retried batch keeps its own record
    const attemptOf = new Map<string, number>();
    for (const r of event.Records) {
      const p = parsed.get(r.messageId);
      if (p?.kind !== 'event') continue;
      attemptOf.set(p.event.id, Math.max(attemptOf.get(p.event.id) ?? 1, sqsDelivery(r).attempt));
    }
    const facts = await factsFromEvents({
      events,
      inventory: deps.inventory,
      nameTag: deps.nameTag,
      now: now(),
      absentAfterMs: deps.absentAfterMs ?? 900_000,
      attempts: attemptOf,
      optIn: deps.optIn,
    });

    // one fact per instance: the newest event in the batch; the rest are superseded
    const usable = events.flatMap((e) => {
      const f = facts.get(e.id) as FactOutcome;
      return f.kind === 'fact' ? [{ event: e, fact: f.fact }] : [];
    });
    const winners = latestPerInstance(usable.map((u) => u.fact));
    const winnerEvent = new Map<string, DnsSyncEvent>();
    for (const w of winners) {
      // latestPerInstance may hand back a tag change as a copy (no longer rename-only)
      const u = usable.find(
        (x) => x.fact.instanceId === w.instanceId && x.fact.time === w.time && x.fact.state === w.state,
      );
      if (u) winnerEvent.set(w.instanceId, u.event);
    }

    let result: SyncResult | undefined;
    let batchError: Error | undefined;
    if (winners.length > 0) {
      const batchTrigger = {
        source: 'aws.ec2',
        // the deliveries (SQS message ids), not the event ids: an EventBridge duplicate of the same
        // events in a later batch gets its own record and never overwrites the one that acted
        id: `batch-${createHash('sha256')
          .update(
            event.Records.filter((r) => {
              const p = parsed.get(r.messageId);
              return p?.kind === 'event' && winnerEvent.get(p.event.instanceId) === p.event;
            })
              .map((r) => r.messageId)
              .sort()
              .join(','),
          )
          .digest('hex')
          .slice(0, 24)}`,
        detailType: EC2_STATE_CHANGE_DETAIL_TYPE,
      };
      try {
        result = await auditedAction(
          deps.audit,
          {
            function: FUNCTION,
            trigger: batchTrigger,
            mode,
            now,
            attempt: Math.max(...[...winnerEvent.values()].map((e) => attemptOf.get(e.id) ?? 1)),
          },
          { action: 'dns.change-batch', subject: { recordName: deps.config.zoneName } },
          async () => {
            const r = await syncDns({
              port: deps.route53,
              zones: deps.zones,
              policy: budgeted(deps.policy ?? DEFAULT_APPLY_POLICY, context),
              dryRun: deps.dryRun,
              comment: `fleetwarden ${FUNCTION} ${batchTrigger.id}`,
              plan: (forward, reverse) => planDns({ config: deps.config, forward, reverse, facts: winners }),
            });
            const changes = r.planned.forward
              .concat(r.planned.reverse)
              .reduce((n, u) => n + u.changes.length, 0);
            return {
              decision: deps.dryRun ? 'reported' : r.requests.length > 0 ? 'acted' : 'skipped',
              reason: `${winners.length} instance(s), ${changes} change(s) in ${r.requests.length} request(s)${deps.dryRun ? ' (dry run: not sent)' : ''}`,
              details: {
                requests: r.requests,
                replans: r.replans,
                failures: r.failures.map((f) => ({
                  instanceId: f.instanceId,
                  zoneId: f.zoneId,
                  error: f.error.message,
                })),
                events: [...winnerEvent.values()].map((e) => e.id),
              },
              result: r,
            };
          },
        );
      } catch (err) {
        batchError = err as Error;
      }
    }

    const outcomeOf = (e: DnsSyncEvent): EventOutcome => {
      const f = facts.get(e.id) as FactOutcome;
      if (f.kind === 'skip') return { skip: f.reason };
      if (f.kind === 'refuse') return { refuse: { reason: f.reason, details: f.details } };
      if (f.kind === 'error') return { error: f.error };
      const winner = winnerEvent.get(e.instanceId);
      if (winner && winner.id !== e.id) {
        return {
          skip: `superseded by event ${winner.id} (${winner.state} at ${winner.time}) in the same batch`,
        };
      }
      if (batchError) return { error: batchError };
      const failure = result?.failures.find((f) => f.instanceId === e.instanceId);
      if (failure) return { error: failure.error };
      const decision = result?.decisions.find((d) => d.instanceId === e.instanceId);
      return decision
        ? { decision }
        : {
            error: new MissingDecisionError(`no decision planned for ${e.instanceId}`, {
              cause: result?.planned,
            }),
          };
    };

    const processor = new BatchProcessor(EventType.SQS);
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const p = parsed.get(record.messageId) as Parsed;
        if (p.kind === 'malformed') {
          await auditMalformed(deps, record, p.error, now);
          throw p.error; // not reached: auditMalformed rethrows it
        }
        const e = p.event;
        const o = outcomeOf(e);
        const ctx: AuditContext = {
          function: FUNCTION,
          ...sqsDelivery(record),
          trigger: { source: e.source, id: e.id, detailType: e.detailType, time: e.time },
          mode,
          now,
        };
        const recordName = o.decision?.recordName;
        await auditedAction(
          deps.audit,
          ctx,
          {
            action: e.state === 'running' ? 'dns.upsert' : 'dns.delete',
            subject: { instanceId: e.instanceId, ...(recordName ? { recordName } : {}) },
          },
          async () => {
            if (o.error instanceof InstanceFactsUnavailableError && deps.retryLater) {
              // first receive only: later retries keep the queue's visibility timeout, so a message
              // still ages past ABSENT_AFTER_SECONDS (and is skipped) before maxReceiveCount
              if (sqsDelivery(record).attempt === 1) {
                await deps.retryLater.after(record, LAG_RETRY_SECONDS).catch((err: unknown) => {
                  // the message fails either way; it then comes back after the visibility timeout
                  logger.warn('could not shorten the retry of a lagging instance', { error: String(err) });
                });
              }
            }
            if (o.error) throw o.error;
            if (o.skip) return { decision: 'skipped' as const, reason: o.skip, result: undefined };
            if (o.refuse) {
              return {
                decision: 'refused' as const,
                reason: o.refuse.reason,
                details: { ...o.refuse.details, state: e.state },
                result: undefined,
              };
            }
            const d = o.decision as PlanDecision;
            const dry = deps.dryRun && d.decision === 'acted';
            return {
              decision: dry ? ('reported' as const) : d.decision,
              reason: dry ? `dry run: would ${d.reason}` : d.reason,
              details: { ...d.details, state: e.state, ...(e.tags ? { trigger: 'tag-change' } : {}) },
              result: undefined,
            };
          },
        );
      },
      processor,
      { context, throwOnFullBatchFailure: false },
    );

    const failed = response.batchItemFailures.length;
    logger.info('dns-sync batch', {
      messages: event.Records.length,
      instances: winners.length,
      requests: result?.requests.length ?? 0,
      failed,
      dryRun: deps.dryRun,
      ...(batchError ? { error: `${batchError.name}: ${batchError.message}` } : {}),
    });
    metrics.addMetric('DnsChangeRequests', 'Count', result?.requests.length ?? 0);
    metrics.addMetric('DnsSyncFailedMessages', 'Count', failed);
    metrics.publishStoredMetrics();
    return response;
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (!wired) {
    const env = readEnv(DnsSyncEnv);
    // here, not in depsFromEnv: dns-reconcile shares that wiring and has no queue (nor SQS client)
    wired = createHandler({ ...depsFromEnv(env), retryLater: new SqsMessageRetry(env.QUEUE_URL) });
  }
  return wired(event, context);
};

/** Real adapters from the validated environment (shared with dns-reconcile's wiring). */
export function depsFromEnv(env: z.infer<typeof DnsEnv>): DnsSyncDeps {
  return {
    route53: new Route53ZoneAdapter(),
    inventory: new Ec2InstanceInventory(),
    audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
    config: {
      zoneName: env.ZONE_NAME,
      reverseZoneName: env.REVERSE_ZONE_ID ? env.REVERSE_ZONE_NAME : undefined,
      ownerId: env.OWNER_ID,
      ttl: env.RECORD_TTL,
      publishPublicIp: env.PUBLISH_PUBLIC_IP,
    },
    zones: { forward: env.HOSTED_ZONE_ID, reverse: env.REVERSE_ZONE_ID },
    nameTag: env.NAME_TAG,
    optIn: optInFromEnv(env),
    dryRun: env.DRY_RUN,
    absentAfterMs: env.ABSENT_AFTER_SECONDS * 1000,
  };
}

/** Who opts in to DNS besides the name tag, from FLEET_TAG_KEY/VALUE and AUTO_SCALING_GROUP_NAMES. */
export function optInFromEnv(env: {
  FLEET_TAG_KEY?: string | undefined;
  FLEET_TAG_VALUE?: string | undefined;
  AUTO_SCALING_GROUP_NAMES?: string | undefined;
}): Omit<DnsOptIn, 'nameTag'> {
  return {
    ...(env.FLEET_TAG_KEY && env.FLEET_TAG_VALUE
      ? { fleetTag: { key: env.FLEET_TAG_KEY, value: env.FLEET_TAG_VALUE } }
      : {}),
    autoScalingGroupNames: (env.AUTO_SCALING_GROUP_NAMES ?? '').split(',').filter(Boolean),
  };
}
