import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { DECISION_GRAPHS, FleetDashboard } from './fleet-dashboard';
import { FleetFunction } from './fleet-function';

const FUNCTIONS = fileURLToPath(new URL('../../functions/', import.meta.url));

/** What a handler passes to Powertools `addMetric`: exact names, and `${prefix}-${...}` families. */
function emitted(dir: string): { names: Set<string>; families: Set<string> } {
  // a function built from its definition emits from several modules of its folder
  const source = readdirSync(`${FUNCTIONS}${dir}`)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.contract.ts'))
    .map((f) => readFileSync(`${FUNCTIONS}${dir}/${f}`, 'utf8'))
    .join('\n');
  const names = new Set<string>();
  const families = new Set<string>();
  for (const [, arg = ''] of source.matchAll(/addMetric\(\s*([^,]+?),\s*'Count'/g)) {
    for (const [, name] of arg.matchAll(/'([\w-]+)'/g)) names.add(name ?? '');
    for (const [, prefix] of arg.matchAll(/`(\w+)-\$\{/g)) families.add(prefix ?? '');
    const constant = /^[A-Z_]+$/.test(arg.trim())
      ? new RegExp(`const ${arg.trim()} = '([\\w-]+)'`).exec(source)?.[1]
      : undefined;
    if (constant) names.add(constant);
  }
  // a literal of a family (`JobWatch-ignored` next to `JobWatch-${outcome}`) is graphed with it
  const ofFamily = (name: string) => [...families].some((f) => name.startsWith(`${f}-`));
  return { names: new Set([...names].filter((n) => !ofFamily(n))), families };
}

describe('DECISION_GRAPHS (the dashboard reads what the handlers emit, and all of it)', () => {
  const dirs = readdirSync(FUNCTIONS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

  it.each(Object.entries(DECISION_GRAPHS))(
    '%s: every graphed metric is one its handler emits',
    (dir, graphs) => {
      expect(dirs).toContain(dir);
      const { names, families } = emitted(dir);
      for (const g of graphs) {
        for (const m of g.metrics ?? []) expect([...names], `${dir} emits ${m}`).toContain(m);
        if (g.family) expect([...families], `${dir} emits ${g.family}-*`).toContain(g.family);
      }
    },
  );

  it.each(dirs)('%s: every metric its handler emits is on the dashboard', (dir) => {
    const { names, families } = emitted(dir);
    const graphs = DECISION_GRAPHS[dir] ?? [];
    // a function without graphs of its own emits no custom metric (its decisions are graphed by
    // ACTIONS_BY_DECISION); one with graphs must emit what they show (and the scan must find it)
    if (graphs.length > 0) expect(names.size + families.size, `${dir} emits metrics`).toBeGreaterThan(0);
    expect(graphs.flatMap((g) => g.metrics ?? []).sort()).toEqual([...names].sort());
    expect(graphs.flatMap((g) => (g.family ? [g.family] : [])).sort()).toEqual([...families].sort());
  });
});

describe('FleetDashboard', () => {
  function setup() {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Fleetwarden', { env: { account: '123456789012', region: 'eu-west-1' } });
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    const sweep = new FleetFunction(stack, 'RunnerSweep', {
      entry: `${FUNCTIONS}runner-sweep/index.ts`,
      description: 'Sweeps ghost runners',
      alarmTopic,
    });
    const queue = new sqs.Queue(stack, 'Feed');
    const deadLetterQueue = new sqs.Queue(stack, 'FeedDeadLetter');
    new FleetDashboard(stack, 'Dashboard', {
      functions: [sweep],
      alarms: sweep.alarms,
      feeds: [{ consumer: sweep, queue, deadLetterQueue }],
    });
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    return { body, dashboard };
  }

  it('is named after the stack', () => {
    expect(setup().dashboard?.Properties.DashboardName).toBe('Fleetwarden');
  });

  it("gives a function its health graphs, its feed's backlog and dead letters, and its decisions", () => {
    const { body } = setup();
    for (const text of [
      'Invocations',
      'Errors',
      'Throttles',
      'Duration',
      'ApproximateNumberOfMessagesVisible',
      'SweepCircuitOpen',
      'SweepBudgetExhausted',
      'MetricName=Finding',
      // every audited outcome, counted by auditedAction (Decision-<decision>)
      'MetricName=Decision',
      'actions by decision',
      'service=\\\\\\"runner-sweep\\\\\\"',
      'FeedDeadLetter',
      '\\"type\\":\\"alarm\\"',
      'RunnerSweepErrorsAlarm',
    ]) {
      expect(body, text).toContain(text);
    }
  });
});
