import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../shared/core/errors';
import type { CliDeps } from '../deps';
import { EXIT } from '../errors';
import { type CliCommand, setExitCode } from '../program';
import { ALL_FAULTS, FAULT_FLAGS, type Faults } from '../simulate/fault-flags';
import type { Invariant } from '../simulate/invariants';
import type { HandlerOverrides } from '../simulate/world';

/** The simulator's named scenarios (cli/simulate/approvals.ts SCENARIOS; a test keeps them equal). */
export const SCENARIO_NAMES = ['fleet', 'on-call', 'approvals', 'approval-void', 'multi-account'];

interface SimulateOptions {
  seed: string;
  instances: string;
  duration: string;
  settle: string;
  drop: string;
  duplicate: string;
  reorder: string;
  errorRate: string;
  out: string;
  json?: boolean;
  adversarial?: boolean;
  scenario?: string;
  /** One per fault flag (FAULT_FLAGS), by its key. */
  [fault: string]: unknown;
}

/** --adversarial turns every fault on; otherwise each fault flag on its own. */
function faultsFrom(opts: SimulateOptions): Partial<Faults> {
  if (opts.adversarial) return { ...ALL_FAULTS };
  return Object.fromEntries(
    Object.keys(FAULT_FLAGS)
      .filter((k) => opts[k])
      .map((k) => [k, true]),
  );
}

function invariantLines(i: Invariant): string[] {
  const count = `${i.details.length} violation${i.details.length === 1 ? '' : 's'}${i.checked === undefined ? '' : ` in ${i.checked} checked`}`;
  return [
    `    ${i.ok ? 'ok  ' : 'FAIL'} ${i.name} (${count})`,
    ...i.details.slice(0, 5).map((d) => `           ${d}`),
    ...(i.details.length > 5 ? [`           ... and ${i.details.length - 5} more (summary.json)`] : []),
    ...(i.accepted ?? []).slice(0, 5).map((a) => `           accepted: ${a}`),
  ];
}

function share(name: string, v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1))
    throw new ConfigError(`--${name} must be a probability from 0 to 1, got ${JSON.stringify(v)}`);
  return n;
}
function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

async function simulateCommand(
  opts: SimulateOptions,
  cmd: Command,
  deps: CliDeps,
  overrides?: HandlerOverrides,
): Promise<void> {
  const options = {
    seed: int('seed', opts.seed, 0, 2 ** 31 - 1),
    instances: int('instances', opts.instances, 1, 2000),
    durationMinutes: int('duration', opts.duration, 5, 24 * 60),
    settleMinutes: int('settle', opts.settle, 0, 24 * 60),
    drop: share('drop', opts.drop),
    duplicate: share('duplicate', opts.duplicate),
    reorder: share('reorder', opts.reorder),
    errorRate: share('error-rate', opts.errorRate),
    faults: faultsFrom(opts),
    scenario: opts.scenario,
  };
  const faultNames = Object.keys(options.faults).map((k) => FAULT_FLAGS[k]?.flag);
  // the handlers' Powertools logs and EMF metrics would bury the report
  deps.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { simulate } = await import('../simulate/simulate');
  const { writeReport } = await import('../simulate/report');
  deps.stderr.write(
    `simulate: seed ${options.seed}, ${options.instances} instances, ${options.durationMinutes} min + ${options.settleMinutes} min settle; chaos drop=${options.drop} duplicate=${options.duplicate} reorder=${options.reorder} error-rate=${options.errorRate}${faultNames.length ? `; faults ${faultNames.join(' ')}` : ''}\n`,
  );
  deps.stderr.write('simulate: synthesizing the fleet stack to read its routing...\n');
  const { summary, engine } = await simulate({
    ...options,
    ...(overrides ? { overrides } : {}),
    progress: (line) => deps.stderr.write(`${line}\n`),
  });
  const files = writeReport(resolve(opts.out), summary, engine.world.audit.all(), engine.stats.deadLetters);
  if (opts.json) {
    deps.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const c = summary.counts;
    deps.stdout.write(
      [
        `fleetwarden simulation (seed ${summary.seed}): ${summary.simulatedSeconds} simulated s in ${summary.wallMs} ms`,
        `  fleet      ${c.instancesLaunched} instances launched, ${c.instancesLeft} left; ${c.runnersRegistered} runners, ${c.runnersDeregistered} deregistered; ${c.jobsStarted} jobs`,
        `  delivery   ${summary.delivery.eventsEmitted} events, ${summary.delivery.dropped} dropped, ${summary.delivery.duplicated} duplicated, ${summary.delivery.delayedOutOfOrder} out of order, ${summary.delivery.injectedErrors} API errors injected`,
        `  api calls  ${Object.entries(summary.apiCalls)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        ...(summary.approvals.proposals > 0
          ? [
              `  approvals  ${summary.approvals.proposals} proposals (${Object.entries(
                summary.approvals.byStatus,
              )
                .map(([k, v]) => `${v} ${k}`)
                .join(
                  ', ',
                )}), ${summary.approvals.decisions} decisions, ${summary.approvals.notified} notified`,
            ]
          : []),
        `  converged  ${summary.convergenceSeconds === null ? 'NEVER' : `${summary.convergenceSeconds} s after the last fleet change`}`,
        '  invariants',
        ...summary.invariants.flatMap(invariantLines),
        `  evidence   ${summary.counts.auditRecords} audit records, ${summary.counts.auditCorrelationResolved} correlated with CloudTrail, ${summary.counts.auditCorrelationPending} pending, ${summary.counts.auditCorrelationUnresolved} unresolved`,
        ...(summary.notSimulated.length ? [`  not simulated: ${summary.notSimulated.join(', ')}`] : []),
        `  report     ${files.join(', ')}`,
        '',
      ].join('\n'),
    );
  }
  if (summary.invariants.some((i) => !i.ok)) setExitCode(cmd, EXIT.failure);
}

/** The command, with handler overrides (tests plug deliberately broken handlers in). */
export function simulateCommandWith(overrides?: HandlerOverrides): CliCommand {
  return {
    name: 'simulate',
    register: (program, deps) => register(program, deps, overrides),
  };
}

export const command: CliCommand = simulateCommandWith();

function register(program: Command, deps: CliDeps, overrides?: HandlerOverrides): void {
  const cmd = program
    .command('simulate')
    .description(
      'Run the fleet locally against simulated EC2, Auto Scaling, Route 53, EventBridge and GitHub, check its invariants and write a report (no AWS account needed)',
    )
    .option('--seed <n>', 'random seed: the same seed gives the same run', '42')
    .option('--instances <n>', 'instances launched during the run', '30')
    .option('--duration <minutes>', 'simulated minutes of fleet activity', '40')
    .option(
      '--settle <minutes>',
      "simulated minutes for schedules to converge afterwards (default: the sweep's one-hour removal budget window plus one sweep period, so a ghost the budget delayed is still removed)",
      '65', // DEFAULT_SIM_OPTIONS.settleMinutes (scenario.ts), not imported here to keep --help fast
    )
    .option('--drop <p>', 'probability that EventBridge loses a delivery', '0')
    .option('--duplicate <p>', 'probability that EventBridge delivers twice', '0')
    .option('--reorder <p>', 'probability that a delivery is delayed past later ones', '0')
    .option(
      '--error-rate <p>',
      'probability that an invocation meets an API error (throttling, failed page)',
      '0',
    )
    .option(
      '--scenario <name>',
      // the names of cli/simulate/approvals.ts SCENARIOS (not imported here, to keep --help fast; a test keeps them equal)
      `named scenario: ${SCENARIO_NAMES.join(', ')} (on-call: approvals deployed, every proposal approved after 8 min; approvals: the breaker refuses a mass removal and the on-call approves it; approval-void: the facts change before the approval; multi-account: a hub and spokes in 3 accounts x 2 regions, with forged cross-account events)`,
      'fleet',
    )
    .option('--out <dir>', 'where summary.json, timeline.json and index.html go', 'fleetwarden-report')
    .option('--json', 'print summary.json to stdout instead of the text summary')
    .option(
      '--adversarial',
      'turn every adversarial fault below on (with the fixed default seed: the adversarial run)',
    );
  for (const { flag, description } of Object.values(FAULT_FLAGS)) cmd.option(`--${flag}`, description);
  cmd.action(async (opts: SimulateOptions, cmd: Command) => simulateCommand(opts, cmd, deps, overrides));
}
