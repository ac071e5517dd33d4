import { parse } from '@aws-lambda-powertools/parser';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { type AuditContext, auditedAction } from '../../shared/audit/audited-action';
import { readEnv } from '../../shared/core/env';
import { MalformedEventError } from '../../shared/core/errors';
import { budgeted, DEFAULT_APPLY_POLICY, type SyncResult, syncDns } from '../../shared/dns/apply';
import { DnsRepairFailedError } from '../../shared/dns/errors';
import type { PlanDecision } from '../../shared/dns/planner';
import { observeFleet, planReconcile } from '../../shared/dns/reconcile';
import { logger, metrics } from '../../shared/observability/powertools';
import { DnsEnv, type DnsSyncDeps, depsFromEnv } from '../dns-sync/handler';

export const DnsReconcileEnv = DnsEnv.extend({
  /** How long a terminated/stopped tombstone marker is kept before reconcile deletes it. */
  TOMBSTONE_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 90)
    .default(24),
  /** Observations are dated this far back, so events applied within the window win over DescribeInstances lag. */
  SETTLE_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
});

export interface DnsReconcileDeps extends Omit<DnsSyncDeps, 'absentAfterMs'> {
  tombstoneMs: number;
  settleMs: number;
}

export interface ReconcileSummary {
  facts: number;
  acted: number;
  wouldAct: number;
  refused: number;
  requests: number;
  dryRun: boolean;
}

const FUNCTION = 'dns-reconcile';
const ALREADY = 'already in the desired state';

export function createHandler(deps: DnsReconcileDeps) {
  const mode = deps.dryRun ? 'dry-run' : 'live';
  return async (event: unknown, context?: Context): Promise<ReconcileSummary> => {
    const parsed = parse(event, undefined, EventBridgeSchema, true);
    if (!parsed.success) {
      throw new MalformedEventError(
        `dns-reconcile expects a scheduled EventBridge event: ${parsed.error.message}`,
        {
          cause: parsed.error,
        },
      );
    }
    const now = deps.now ?? (() => new Date());
    const ctx: AuditContext = {
      function: FUNCTION,
      trigger: {
        source: 'fleetwarden.schedule',
        id: parsed.data.id,
        detailType: parsed.data['detail-type'],
        time: now().toISOString(),
      },
      mode,
      now,
      // EventBridge / Lambda async can deliver one event twice (another request id), and Lambda
      // retries a failed run under the same request id: each invocation keeps its own records
      ...(context?.awsRequestId ? { deliveryId: `${context.awsRequestId}@${now().toISOString()}` } : {}),
    };
    let facts = 0;
    const result: SyncResult = await auditedAction(
      deps.audit,
      ctx,
      { action: 'dns.reconcile', subject: { recordName: deps.config.zoneName } },
      async () => {
        const r = await syncDns({
          port: deps.route53,
          zones: deps.zones,
          policy: budgeted(deps.policy ?? DEFAULT_APPLY_POLICY, context),
          dryRun: deps.dryRun,
          comment: `fleetwarden ${FUNCTION} ${parsed.data.id}`,
          plan: async (forward, reverse) => {
            const at = now();
            const observed = await observeFleet({
              inventory: deps.inventory,
              nameTag: deps.nameTag,
              optIn: deps.optIn,
              owner: deps.config.ownerId,
              zones: reverse ? [forward, reverse] : [forward],
              observedAt: new Date(at.getTime() - deps.settleMs).toISOString(),
            });
            facts = observed.length;
            return planReconcile({
              config: deps.config,
              forward,
              reverse,
              facts: observed,
              now: at,
              tombstoneMs: deps.tombstoneMs,
            });
          },
        });
        const acting = r.decisions.filter((d) => d.decision === 'acted').length;
        return {
          decision: deps.dryRun ? 'reported' : r.requests.length > 0 ? 'acted' : 'skipped',
          reason: `${facts} instance(s) observed; ${acting} repair(s)${deps.dryRun ? ' would be made (dry run)' : ` in ${r.requests.length} request(s)`}`,
          details: { requests: r.requests, replans: r.replans, facts },
          result: r,
        };
      },
    );

    // one audit record per decision that did (or in dry run would do) something, or refused to
    const worth = (d: PlanDecision) => !(d.decision === 'skipped' && d.reason.startsWith(ALREADY));
    for (const d of result.decisions.filter(worth)) {
      const dry = deps.dryRun && d.decision === 'acted';
      await auditedAction(
        deps.audit,
        ctx,
        {
          action: d.action,
          subject: { instanceId: d.instanceId, ...(d.recordName ? { recordName: d.recordName } : {}) },
        },
        async () => ({
          decision: dry ? ('reported' as const) : d.decision,
          reason: dry ? `dry run: would ${d.reason}` : d.reason,
          details: d.details,
          result: undefined,
        }),
      );
    }
    // instances whose changes Route 53 rejected (isolated by syncDns; everything else was written):
    // one failed record each, then the run fails so the alarm fires and the schedule retries
    for (const f of result.failures) {
      const d = result.planned.decisions.find((x) => x.instanceId === f.instanceId);
      await auditedAction(
        deps.audit,
        ctx,
        {
          action: d?.action ?? 'dns.upsert',
          subject: { instanceId: f.instanceId, ...(d?.recordName ? { recordName: d.recordName } : {}) },
        },
        async () => {
          throw f.error;
        },
      ).catch((err: unknown) => {
        if (err !== f.error) throw err;
      });
    }
    const acted = result.decisions.filter((d) => d.decision === 'acted').length;
    const summary: ReconcileSummary = {
      facts,
      acted: deps.dryRun ? 0 : acted,
      wouldAct: deps.dryRun ? acted : 0,
      refused: result.decisions.filter((d) => d.decision === 'refused').length,
      requests: result.requests.length,
      dryRun: deps.dryRun,
    };
    logger.info('dns-reconcile run', { scheduleEventId: parsed.data.id, ...summary });
    metrics.addMetric(
      deps.dryRun ? 'DnsReconcileWouldRepair' : 'DnsReconcileRepairs',
      'Count',
      deps.dryRun ? acted : acted,
    );
    metrics.addMetric('DnsReconcileRefused', 'Count', summary.refused);
    metrics.addMetric('DnsReconcileFailed', 'Count', result.failures.length);
    metrics.publishStoredMetrics();
    if (result.failures.length > 0) {
      throw new DnsRepairFailedError(
        `${result.failures.length} instance(s) not repaired, Route 53 rejected their changes: ${result.failures.map((f) => f.instanceId).join(', ')}`,
        { cause: result.failures[0]?.error },
      );
    }
    return summary;
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<ReconcileSummary> => {
  if (!wired) {
    const env = readEnv(DnsReconcileEnv);
    const base = depsFromEnv(env);
    wired = createHandler({
      ...base,
      tombstoneMs: env.TOMBSTONE_HOURS * 3_600_000,
      settleMs: env.SETTLE_SECONDS * 1000,
    });
  }
  return wired(event, context);
};
