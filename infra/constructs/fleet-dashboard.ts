import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FleetFunction } from './fleet-function';
import { RUNBOOKS_DOC } from './runbook';

/** A graph of a function's own Powertools metrics (namespace Fleetwarden, dimension `service`). */
export interface DecisionGraph {
  readonly title: string;
  /** Metric names exactly as the handler passes them to `addMetric`. */
  readonly metrics?: readonly string[];
  /** A family the handler emits as `${family}-${value}`: one line per value, found by a search. */
  readonly family?: string;
}

/**
 * What each function decides, keyed by its `functions/<name>/` directory: every metric its handler
 * emits, graphed (fleet-dashboard.test.ts reads the handlers and checks both directions).
 */
export const DECISION_GRAPHS: Readonly<Record<string, readonly DecisionGraph[]>> = {
  'audit-correlate': [
    {
      title: 'correlation backlog and outcome',
      metrics: [
        'AuditRecordsStillPending',
        'AuditRecordsUnresolved',
        'AuditRecordsFailed',
        'AuditRecordsResolved',
      ],
    },
    { title: 'CloudTrail throttled runs', metrics: ['CloudTrailThrottledRuns'] },
  ],
  'dns-sync': [
    {
      title: 'Route 53 change requests, failed messages',
      metrics: ['DnsChangeRequests', 'DnsSyncFailedMessages'],
    },
  ],
  'dns-reconcile': [
    {
      title: 'repairs by decision',
      metrics: [
        'DnsReconcileRepairs',
        'DnsReconcileWouldRepair',
        'DnsReconcileRefused',
        'DnsReconcileFailed',
      ],
    },
    // runs that read the zone (1) or skipped the read: nothing may have drifted (0)
    { title: 'zone reads', metrics: ['DnsReconcileZoneReads'] },
  ],
  'runner-drain': [
    { title: 'drain deadline, cordon failures', metrics: ['DrainDeadlineReached', 'CordonFailed'] },
  ],
  'runner-sweep': [
    { title: 'breaker refusals', metrics: ['SweepCircuitOpen', 'SweepBudgetExhausted'] },
    { title: 'findings by kind', family: 'Finding' },
  ],
  'runner-job-watch': [
    { title: 'jobs by outcome', family: 'JobWatch' },
    { title: 'jobs on leaving instances', metrics: ['JobOnLeavingInstance'] },
  ],
  'webhook-ingress': [
    { title: 'deliveries by status', family: 'webhook' },
    { title: 'signatures refused', metrics: ['WebhookSignatureRefused'] },
  ],
};

/** An SQS queue that feeds a function: its backlog and dead letters go in that function's row. */
export interface QueueFeed {
  readonly consumer: FleetFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface FleetDashboardProps {
  /** The functions to show, one row each (FleetStack passes every FleetFunction it built). */
  readonly functions: readonly FleetFunction[];
  /** Alarms shown in the status widget at the top. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /**
   * Queues that feed functions.
   * @default - none
   */
  readonly feeds?: readonly QueueFeed[];
  /**
   * Name of the dashboard.
   * @default - the stack name
   */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);
const HEIGHT = 6;

/** The function's `functions/<name>/` directory, when it has one. */
const handlerDir = (ff: FleetFunction) => /^functions\/([^/]+)\//.exec(ff.entry)?.[1];
/** How the dashboard names a function: its handler directory (the `service` can be just "function"). */
const nameOf = (ff: FleetFunction) => handlerDir(ff) ?? ff.serviceName;

/** Health of one function: the same three graphs for every function. */
function healthGraphs(ff: FleetFunction, feeds: readonly QueueFeed[]): cloudwatch.IWidget[] {
  const sum = { period: PERIOD, statistic: 'Sum' } as const;
  const depth = (q: sqs.IQueue, label: string) =>
    q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label });
  const mine = feeds.filter((f) => f.consumer === ff);
  return [
    new cloudwatch.GraphWidget({
      title: `${nameOf(ff)}: invocations, errors, throttles`,
      left: [
        ff.fn.metricInvocations({ ...sum, label: 'invocations' }),
        ff.fn.metricErrors({ ...sum, label: 'errors' }),
        ff.fn.metricThrottles({ ...sum, label: 'throttles' }),
      ],
      width: 8,
      height: HEIGHT,
    }),
    new cloudwatch.GraphWidget({
      title: `${nameOf(ff)}: duration (ms)`,
      left: [
        ff.fn.metricDuration({ period: PERIOD, statistic: 'Maximum', label: 'max' }),
        ff.fn.metricDuration({ period: PERIOD, statistic: 'p90', label: 'p90' }),
      ],
      leftAnnotations: [{ value: ff.timeout.toMilliseconds(), label: 'timeout' }],
      width: 8,
      height: HEIGHT,
    }),
    new cloudwatch.GraphWidget({
      title: `${nameOf(ff)}: dead letters${mine.length > 0 ? ' and queue backlog' : ''}`,
      left: [
        depth(ff.deadLetterQueue, 'failed invocations (DLQ)'),
        ...mine.map((f) => depth(f.deadLetterQueue, 'queue dead letters')),
      ],
      ...(mine.length > 0 ? { right: mine.map((f) => depth(f.queue, 'queue backlog')) } : {}),
      width: 8,
      height: HEIGHT,
    }),
  ];
}

/** Every function: each outcome `auditedAction()` records is counted as `Decision-<decision>`. */
const ACTIONS_BY_DECISION: DecisionGraph = { title: 'actions by decision', family: 'Decision' };

/** The function's own decisions, from DECISION_GRAPHS (none for a handler outside functions/). */
function decisionGraphs(ff: FleetFunction): cloudwatch.IWidget[] {
  const dir = handlerDir(ff);
  const graphs = [ACTIONS_BY_DECISION, ...((dir && DECISION_GRAPHS[dir]) || [])];
  return graphs.map(
    (g) =>
      new cloudwatch.GraphWidget({
        title: `${nameOf(ff)}: ${g.title}`,
        left: [
          ...(g.metrics ?? []).map((m) => ff.customMetric(m, { label: m })),
          ...(g.family
            ? [
                new cloudwatch.SearchExpression({
                  expression: `SEARCH('{Fleetwarden,service} service="${ff.serviceName}" MetricName=${g.family}', 'Sum', ${PERIOD.toSeconds()})`,
                  label: '',
                  period: PERIOD,
                }),
              ]
            : []),
        ],
        width: 24 / graphs.length,
        height: HEIGHT,
      }),
  );
}

/**
 * The on-call dashboard: the state of every alarm, then one row per function (invocations, errors,
 * throttles; duration against the timeout; dead letters and the backlog of a queue that feeds it)
 * and what it decided, from the Powertools metrics its handler emits.
 */
export class FleetDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FleetDashboardProps) {
    super(scope, id);
    const feeds = props.feeds ?? [];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: `Alarms: each description links to its section of ${RUNBOOKS_DOC}`,
        alarms: [...props.alarms],
        width: 24,
        height: Math.max(2, Math.ceil(props.alarms.length / 4) + 1),
      }),
    );
    for (const ff of props.functions) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({
          markdown: `### ${nameOf(ff)} (service \`${ff.serviceName}\`): ${ff.description}`,
          width: 24,
          height: 1,
        }),
      );
      this.dashboard.addWidgets(...healthGraphs(ff, feeds));
      const decisions = decisionGraphs(ff);
      if (decisions.length > 0) this.dashboard.addWidgets(...decisions);
    }
  }
}
