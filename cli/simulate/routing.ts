import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app';
import { FleetFunction } from '../../infra/constructs/fleet-function';
import { HOME_REGION, SIM_ACCOUNT, simRoleArn } from './evidence';
import { type SpokeRoute, spokeRouteOf } from './forwarding';

/**
 * How events reach functions, read from the SYNTHESIZED FleetStack (never written down twice): rules
 * (pattern or schedule, bus, targets), SQS event source mappings (batch size, window), queues
 * (visibility timeout, redrive limit), lifecycle hooks (name, heartbeat timeout, default result)
 * and every function's handler entry (FleetFunction metadata), environment and timeout.
 */
export interface FunctionRoute {
  logicalId: string;
  /** Repo-relative handler path, e.g. functions/dns-sync/index.ts. */
  entry: string;
  env: Record<string, string>;
  /** The function's Timeout (Lambda's default 3 s if unset). */
  timeoutMs?: number;
  /** Retries of a failed asynchronous invocation (EventInvokeConfig; Lambda's default 2). */
  asyncRetries?: number;
}
export type Target = { kind: 'function'; fn: string } | { kind: 'queue'; queue: string };
export interface RuleRoute {
  logicalId: string;
  /** 'default' or the logical id of a custom bus. */
  bus: string;
  pattern?: Record<string, unknown>;
  everyMs?: number;
  targets: Target[];
}
export interface QueueConsumer {
  fn: string;
  batchSize: number;
  windowMs: number;
}
/** An SQS queue as deployed (SQS defaults where the template sets nothing). */
export interface QueueSettings {
  visibilityTimeoutMs: number;
  /** Receives before the redrive policy moves a message to its DLQ; undefined: no redrive. */
  maxReceiveCount: number | undefined;
}
/** An Auto Scaling lifecycle hook as deployed. */
export interface LifecycleHookRoute {
  autoScalingGroupName: string;
  name: string;
  transition: string;
  heartbeatTimeoutMs: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}
export interface Routing {
  stackName: string;
  functions: Map<string, FunctionRoute>;
  rules: RuleRoute[];
  /** queue logical id -> its consumer */
  consumers: Map<string, QueueConsumer>;
  /** bus logical ids of custom buses */
  buses: string[];
  /** queue logical id -> visibility timeout and redrive limit */
  queues: Map<string, QueueSettings>;
  lifecycleHooks: LifecycleHookRoute[];
  /** The spoke stacks' forwarding rules (a hub with spokes; none otherwise). */
  spokes?: SpokeRoute[];
}

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

const refOf = (v: unknown): string | undefined => {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  return undefined;
};

export function parseRate(expr: string): number {
  const m = expr.match(/^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/);
  if (!m) throw new Error(`unsupported schedule expression ${expr} (only rate(...) is simulated)`);
  const n = Number(m[1]);
  const unit = m[2]?.startsWith('minute') ? 60_000 : m[2]?.startsWith('hour') ? 3_600_000 : 86_400_000;
  return n * unit;
}

export function routingFromTemplate(
  template: { Resources: Record<string, Resource> },
  stackName = 'Fleetwarden',
): Routing {
  const functions = new Map<string, FunctionRoute>();
  const rules: RuleRoute[] = [];
  const consumers = new Map<string, QueueConsumer>();
  const buses: string[] = [];
  const queues = new Map<string, QueueSettings>();
  const lifecycleHooks: LifecycleHookRoute[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::SQS::Queue') queues.set(id, queueSettings(p));
    else if (r.Type === 'AWS::AutoScaling::LifecycleHook') lifecycleHooks.push(lifecycleHookRoute(id, p));
    else if (r.Type === 'AWS::Lambda::Function') {
      const fn = functionRoute(id, r, template.Resources);
      if (fn) functions.set(id, fn);
    } else if (r.Type === 'AWS::Events::EventBus') buses.push(id);
  }
  // second pass: these refer to the functions and queues found above
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::Lambda::EventInvokeConfig') {
      const fn = functions.get(refOf(p.FunctionName) ?? '');
      if (fn && p.MaximumRetryAttempts !== undefined) fn.asyncRetries = Number(p.MaximumRetryAttempts);
    } else if (r.Type === 'AWS::Events::Rule') {
      if (p.State !== 'DISABLED') rules.push(ruleRoute(id, p, template, functions));
    } else if (r.Type === 'AWS::Lambda::EventSourceMapping') {
      const queue = refOf(p.EventSourceArn);
      const fn = refOf(p.FunctionName);
      if (queue && fn) consumers.set(queue, queueConsumer(fn, p));
    }
  }
  return { stackName, functions, rules, consumers, buses, queues, lifecycleHooks };
}

type Properties = Record<string, unknown>;

function queueSettings(p: Properties): QueueSettings {
  const redrive = p.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
  return {
    // SQS defaults: 30 s visibility, no redrive
    visibilityTimeoutMs: Number(p.VisibilityTimeout ?? 30) * 1000,
    maxReceiveCount: redrive?.maxReceiveCount === undefined ? undefined : Number(redrive.maxReceiveCount),
  };
}

function lifecycleHookRoute(id: string, p: Properties): LifecycleHookRoute {
  return {
    autoScalingGroupName: String(p.AutoScalingGroupName),
    name: String(p.LifecycleHookName ?? id),
    transition: String(p.LifecycleTransition),
    // Auto Scaling defaults: 3600 s heartbeat, ABANDON
    heartbeatTimeoutMs: Number(p.HeartbeatTimeout ?? 3600) * 1000,
    defaultResult: p.DefaultResult === 'CONTINUE' ? 'CONTINUE' : 'ABANDON',
  };
}

/** A FleetFunction's route (other Lambda functions, e.g. CDK's custom resources, are not simulated). */
function functionRoute(
  id: string,
  r: Resource,
  resources: Record<string, Resource>,
): FunctionRoute | undefined {
  const entry = r.Metadata?.[FleetFunction.ENTRY_METADATA_KEY];
  if (typeof entry !== 'string') return undefined;
  const p = r.Properties ?? {};
  const vars = ((p.Environment as { Variables?: Properties } | undefined)?.Variables ?? {}) as Properties;
  const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, envValue(v, resources)]));
  return { logicalId: id, entry, env, timeoutMs: Number(p.Timeout ?? 3) * 1000, asyncRetries: 2 };
}

/** The function (entry folder name) whose execution role is `roleId`. */
function roleFunction(roleId: string, resources: Record<string, Resource>): string | undefined {
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Lambda::Function' || refOf(r.Properties?.Role) !== roleId) continue;
    const entry = r.Metadata?.[FleetFunction.ENTRY_METADATA_KEY];
    if (typeof entry === 'string') return entry.replace(/^functions\/|\/(handler|index)\.ts$/g, '');
  }
  return undefined;
}

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': SIM_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::Region': HOME_REGION,
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * An environment value as deployed: strings as they are, pseudo parameters and joins resolved, a
 * topic's Ref as its ARN (settings check ARNs), any other resource as `sim-<logical id>`.
 */
function envValue(v: unknown, resources: Record<string, Resource>): string {
  if (typeof v === 'string') return v;
  const join = (v as Record<string, unknown> | undefined)?.['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
    return (join[1] as unknown[]).map((part) => envValue(part, resources)).join(join[0]);
  const ref = refOf(v);
  if (ref && PSEUDO[ref]) return PSEUDO[ref];
  // a function's role: the ARN the simulated trail names as its session issuer (evidence.ts)
  if (ref && resources[ref]?.Type === 'AWS::IAM::Role') {
    const fn = roleFunction(ref, resources);
    if (fn) return simRoleArn(fn);
  }
  if (ref && resources[ref]?.Type === 'AWS::SNS::Topic')
    return `arn:aws:sns:${HOME_REGION}:${SIM_ACCOUNT}:sim-${ref}`;
  return `sim-${ref ?? 'token'}`;
}

function ruleRoute(
  id: string,
  p: Properties,
  template: { Resources: Record<string, Resource> },
  functions: ReadonlyMap<string, FunctionRoute>,
): RuleRoute {
  const targets: Target[] = [];
  for (const t of (p.Targets as Array<{ Arn: unknown }> | undefined) ?? []) {
    const ref = refOf(t.Arn);
    if (!ref) continue;
    if (functions.has(ref)) targets.push({ kind: 'function', fn: ref });
    else if (template.Resources[ref]?.Type === 'AWS::SQS::Queue') targets.push({ kind: 'queue', queue: ref });
  }
  return {
    logicalId: id,
    bus: refOf(p.EventBusName) ?? 'default',
    ...(p.EventPattern ? { pattern: p.EventPattern as Record<string, unknown> } : {}),
    ...(typeof p.ScheduleExpression === 'string' ? { everyMs: parseRate(p.ScheduleExpression) } : {}),
    targets,
  };
}

function queueConsumer(fn: string, p: Properties): QueueConsumer {
  return {
    fn,
    batchSize: Number(p.BatchSize ?? 10),
    windowMs: Number(p.MaximumBatchingWindowInSeconds ?? 0) * 1000,
  };
}

/**
 * A hub with spokes is deployed with its account and region known (its spokes trust its roles and
 * forward to its bus): synthesized as `cdk synth` with the simulated account's credentials would.
 */
function withHubEnv<T>(hub: boolean, run: () => T): T {
  if (!hub) return run();
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  process.env.CDK_DEFAULT_ACCOUNT = SIM_ACCOUNT;
  process.env.CDK_DEFAULT_REGION = HOME_REGION;
  try {
    return run();
  } finally {
    for (const [k, v] of [
      ['CDK_DEFAULT_ACCOUNT', saved.account],
      ['CDK_DEFAULT_REGION', saved.region],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** Synthesize the fleet as `cdk synth` would (cdk.json context, overrides on top), without bundling. */
export function synthesizeFleet(overrides: Record<string, unknown> = {}): Routing {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const fleetwarden = { ...(cdkJson.context.fleetwarden as Record<string, unknown>), ...overrides };
  const assembly = withHubEnv(fleetwarden.spokes !== undefined, () =>
    buildApp(
      new App({ context: { ...cdkJson.context, fleetwarden, 'aws:cdk:bundling-stacks': [] } }),
    ).synth(),
  );
  // the hub: the stack with the fleet's functions; every other stack with an account is a spoke
  const hasFunctions = (t: { Resources?: Record<string, Resource> }) =>
    Object.values(t.Resources ?? {}).some((r) => r.Metadata?.[FleetFunction.ENTRY_METADATA_KEY]);
  const stack = assembly.stacks.find((s) => hasFunctions(s.template)) ?? assembly.stacks[0];
  if (!stack) throw new Error('the fleet app synthesized no stack');
  const routing = routingFromTemplate(
    stack.template as { Resources: Record<string, Resource> },
    stack.stackName,
  );
  const spokes = assembly.stacks
    .filter((s) => s !== stack && /^\d{12}$/.test(s.environment.account))
    .map((s) => spokeRouteOf({ account: s.environment.account, region: s.environment.region }, s.template));
  return spokes.length > 0 ? { ...routing, spokes } : routing;
}
