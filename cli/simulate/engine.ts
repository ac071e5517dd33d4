import { Webhooks } from '@octokit/webhooks';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import type { InstanceInfo, InstanceState } from '../../shared/ec2/port';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { workflowJobPayload } from '../../shared/webhook/testing/payloads';
import { matchesPattern } from './event-pattern';
import type { Faults } from './fault-flags';
import {
  foreignHookOnDrainQueue,
  installFaults,
  noteWarmReturn,
  scheduleFaults,
  sendWebhook,
  warmPoolScaleIn,
} from './faults';
import { seededRandom } from './rng';
import type { Routing, Target } from './routing';
import {
  type GitHubRateLimit,
  type HandlerOverrides,
  type Invoke,
  SIM_WEBHOOK_SECRET,
  World,
  wireFunction,
} from './world';

export interface SimOptions {
  seed: number;
  /** Instances launched during the run (a third are plain DNS hosts, the rest runners). */
  instances: number;
  /** Minutes of fleet activity; the run then settles for `settleMinutes`. */
  durationMinutes: number;
  settleMinutes: number;
  /** Chaos, each a probability per delivery / invocation. */
  drop: number;
  duplicate: number;
  reorder: number;
  errorRate: number;
  /** GitHub budget of the fleet (default: 20 requests per 5 min, so the limit comes into play). */
  githubRateLimit?: GitHubRateLimit;
  overrides?: HandlerOverrides;
  /** Adversarial faults (faults.ts), each off unless set. */
  faults?: Partial<Faults>;
  progress?: (line: string) => void;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  seed: 42,
  instances: 30,
  durationMinutes: 40,
  // the sweep's rolling removal budget (1 h) can delay a ghost's removal by up to a window
  settleMinutes: 65,
  drop: 0,
  duplicate: 0,
  reorder: 0,
  errorRate: 0,
};

export const T0 = Date.parse('2026-11-24T08:00:00Z');
export const ASG = 'ci-runners';
/** Who terminates the web hosts by hand in the scenario (CloudTrail shows it as the trigger's actor). */
const OPERATOR =
  'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/alice@example.com';

/** What really happened to an instance: the simulator's ground truth for the invariants. */
export interface TruthInstance {
  id: string;
  /**
   * web: a DNS host named by tag; runner: in the runner ASG; spoofed: carries the fleet tag but is in
   * no configured ASG; outsider: another team's instance that opts in to nothing.
   */
  kind: 'web' | 'runner' | 'spoofed' | 'outsider';
  /** The Auto Scaling group it belongs to (aws:autoscaling:groupName), if any. */
  asg?: string;
  name: string;
  ip: string;
  state: InstanceState;
  runnerId?: number;
  /** A job is running on it right now (truth, not GitHub's view). */
  jobRunning: boolean;
  /** The job running (or last run) on it. */
  jobId?: number;
  /** When the running job started. */
  jobStartedAt?: number;
  neverRegisters: boolean;
}

/**
 * Why an instance went while its job was running: the fleet completed the terminate lifecycle
 * action (before or after the drain deadline), the fleet terminated it (runner-sweep), the hook's
 * heartbeat ran out, or someone else (spot interruption, an operator).
 */
export type KillCause =
  | 'fleet-completed-hook'
  | 'fleet-deadline'
  | 'fleet-terminated'
  | 'hook-timeout'
  | 'other';
export interface KilledJob {
  jobId: number;
  instanceId: string;
  runnerName: string;
  cause: KillCause;
  at: number;
  /** For hook causes: how long the hook held the instance. */
  heldMs?: number;
}

interface Task {
  at: number;
  seq: number;
  run: () => unknown;
}
interface QueueMessage {
  id: string;
  body: string;
  visibleAt: number;
  receives: number;
  sentAt: number;
}

export interface SimDeadLetter {
  at: number;
  fn: string;
  messageId: string;
  tries: number;
  body: string;
}

export interface SimStats {
  emitted: number;
  deliveries: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  injectedErrors: number;
  invocations: Record<string, number>;
  invocationErrors: Record<string, number>;
  deadLettered: Record<string, number>;
  /** Of those, dead-lettered after a try that failed on an injected fault. */
  deadLetteredOnInjectedFault: Record<string, number>;
  /** Each dead-lettered message or async event (the report shows them under their subject). */
  deadLetters: SimDeadLetter[];
  webhooks: { sent: number; accepted: number; duplicates: number; other: number };
  jobs: { started: number; completed: number; failed: number };
  lastFleetChangeAt: number;
  convergedAt?: number;
}

const LEAVING = new Set<InstanceState>(['shutting-down', 'terminated']);

function tagsOf(t: TruthInstance): Record<string, string> {
  const asg: Record<string, string> = t.asg ? { 'aws:autoscaling:groupName': t.asg } : {};
  if (t.kind === 'web') return { 'fleetwarden:dns-name': t.name };
  if (t.kind === 'outsider') return asg;
  return { 'fleetwarden:fleet': 'runners', ...asg };
}

/** The EventBridge event Auto Scaling sends when a terminate lifecycle action starts. */
export function lifecycleEvent(
  ref: {
    autoScalingGroupName: string;
    lifecycleHookName: string;
    lifecycleActionToken: string;
    instanceId: string;
  },
  id: string,
  at: number,
  /** More detail fields (a warm-pool scale-in: Origin, Destination). */
  extra: Record<string, string> = {},
): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      LifecycleActionToken: ref.lifecycleActionToken,
      AutoScalingGroupName: ref.autoScalingGroupName,
      LifecycleHookName: ref.lifecycleHookName,
      EC2InstanceId: ref.instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      ...extra,
    },
  };
}

export class Engine {
  readonly clock = { now: T0 };
  readonly rng: () => number;
  readonly world: World;
  readonly truth = new Map<string, TruthInstance>();
  readonly foreignRecords: Array<{ name: string; type: string; values: string[] }>;
  readonly stats: SimStats;
  readonly zoneId: string;
  readonly zoneName: string;
  /** runner-drain's DRAIN_DEADLINE_SECONDS: past it, completing a busy runner's hook is by design. */
  readonly drainDeadlineMs: number;
  private readonly tasks: Task[] = [];
  private seq = 0;
  private readonly invokers = new Map<string, Invoke>();
  private readonly queues = new Map<string, QueueMessage[]>();
  private readonly webhookBus: string | undefined;
  private readonly github = new Webhooks({ secret: SIM_WEBHOOK_SECRET });
  private msgSeq = 0;
  private jobSeq = 0;
  /** One request id per invocation, as Lambda gives (handlers key their audit records on it). */
  private requestSeq = 0;
  /** EC2 state changes delivered to a queue (what a per-event design would turn into Route 53 calls). */
  dnsEventDeliveries = 0;
  private deliverySeq = 0;
  readonly skipped: string[] = [];
  /** Terminate lifecycle actions the ASG started. */
  readonly hooks: Array<{
    token: string;
    instanceId: string;
    startedAt: number;
    hookName: string;
    heartbeatTimeoutMs: number;
  }> = [];
  /** Jobs that died with their instance, and who let the instance go (ground truth). */
  readonly killedJobs: KilledJob[] = [];
  /** How far `world.terminator.terminated` has been turned into terminations. */
  private terminationsSeen = 0;
  /** Other teams' terminate hooks on the runner ASG (--foreign-hooks): they complete by timing out. */
  readonly foreignHooks: Array<{ name: string; heartbeatTimeoutMs: number }> = [];
  /** Lifecycle action tokens of foreign hooks: the fleet must never heartbeat or complete them. */
  readonly foreignTokens = new Set<string>();
  /**
   * The fleet identity label runners register with (contract 4: `fleetwarden-fleet:<FLEET_ID>`, the
   * id runner-sweep is deployed with; the sweep removes only runners that carry it).
   */
  readonly fleetLabel: string;
  /** Whether an error was injected into the invocation that just ended. */
  lastInjected = false;

  constructor(
    readonly routing: Routing,
    readonly options: SimOptions,
  ) {
    this.rng = seededRandom(options.seed);
    this.world = new World(this.clock, seededRandom(options.seed ^ 0x5eed), options.githubRateLimit);
    this.stats = {
      emitted: 0,
      deliveries: 0,
      dropped: 0,
      duplicated: 0,
      delayed: 0,
      injectedErrors: 0,
      invocations: {},
      invocationErrors: {},
      deadLettered: {},
      deadLetteredOnInjectedFault: {},
      deadLetters: [],
      webhooks: { sent: 0, accepted: 0, duplicates: 0, other: 0 },
      jobs: { started: 0, completed: 0, failed: 0 },
      lastFleetChangeAt: T0,
    };
    for (const f of routing.functions.values()) {
      const invoke = wireFunction(f, this.world, options.overrides);
      if (invoke) this.invokers.set(f.logicalId, invoke);
      else this.skipped.push(f.entry);
    }
    const dns = [...routing.functions.values()].find((f) => f.entry === 'functions/dns-sync/index.ts');
    this.zoneId = dns?.env.HOSTED_ZONE_ID ?? 'Z0SIMULATED';
    this.zoneName = dns?.env.ZONE_NAME ?? 'fleet.example.internal';
    const drain = [...routing.functions.values()].find((f) => f.entry === 'functions/runner-drain/index.ts');
    this.drainDeadlineMs = Number(drain?.env.DRAIN_DEADLINE_SECONDS ?? 1800) * 1000;
    const sweep = [...routing.functions.values()].find((f) => f.entry === 'functions/runner-sweep/index.ts');
    this.fleetLabel = `fleetwarden-fleet:${sweep?.env.FLEET_ID ?? 'sim-fleet'}`;
    this.foreignRecords = [
      { name: `legacy.${this.zoneName}`, type: 'A', values: ['192.0.2.10'] },
      { name: `mail.${this.zoneName}`, type: 'TXT', values: ['"v=spf1 -all"'] },
      // a record named like one of ours, but without our ownership marker: never touched
      { name: `web-0.${this.zoneName}`, type: 'A', values: ['192.0.2.20'] },
    ];
    // Route 53 returns names fully qualified, with the root dot
    this.world.route53.addZone(
      this.zoneId,
      this.zoneName,
      this.foreignRecords.map((r) => ({ ...r, name: `${r.name}.`, ttl: 300 })),
    );
    // ChangeMessageVisibility: the received message (receipt handle = message id here) comes back sooner
    this.world.onMessageRetry = (message, seconds) => {
      for (const list of this.queues.values()) {
        const m = list.find((x) => x.id === message.receiptHandle);
        if (m) m.visibleAt = this.clock.now + seconds * 1000;
      }
    };
    this.webhookBus = routing.buses[0];
    installFaults(this);
    this.defineAsgHooks();
    // events the webhook ingress publishes travel on the custom bus
    this.world.bus.subscribe((e) => {
      if (this.webhookBus)
        this.emit(this.webhookBus, {
          version: '0',
          account: '123456789012',
          region: 'eu-west-1',
          resources: [],
          ...e,
        });
    });
  }

  // ---- scheduling --------------------------------------------------------------------------------

  at(time: number, run: () => unknown): void {
    const task = { at: time, seq: this.seq++, run };
    let i = this.tasks.length;
    while (
      i > 0 &&
      ((this.tasks[i - 1] as Task).at > time ||
        ((this.tasks[i - 1] as Task).at === time && (this.tasks[i - 1] as Task).seq > task.seq))
    )
      i--;
    this.tasks.splice(i, 0, task);
  }

  after(ms: number, run: () => unknown): void {
    this.at(this.clock.now + ms, run);
  }

  // ---- EventBridge: rules from the template, at-least-once, unordered -----------------------------

  emit(bus: string, event: Record<string, unknown>): void {
    this.stats.emitted++;
    for (const rule of this.routing.rules) {
      if (rule.bus !== bus || !rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        if (this.rng() < this.options.drop) {
          this.stats.dropped++;
          continue;
        }
        const copies = this.rng() < this.options.duplicate ? 2 : 1;
        if (copies === 2) this.stats.duplicated++;
        for (let c = 0; c < copies; c++) {
          let delay = 300 + Math.floor(this.rng() * 1500);
          if (this.rng() < this.options.reorder) {
            delay += Math.floor(this.rng() * 45_000);
            this.stats.delayed++;
          }
          this.after(delay, () => this.deliver(target, event));
        }
      }
    }
  }

  /** `unit`: what a failed try must be retried to success as (default: this delivery). */
  private async deliver(target: Target, event: unknown, unit?: string): Promise<void> {
    this.stats.deliveries++;
    if (target.kind === 'queue' && (event as { source?: string }).source === 'aws.ec2')
      this.dnsEventDeliveries++;
    if (target.kind === 'queue') {
      this.enqueue(target.queue, JSON.stringify(event));
      return;
    }
    await this.invokeAsync(target.fn, event, 0, unit ?? `async-${++this.unitSeq}`);
  }

  enqueue(queue: string, body: string, delayMs = 0): void {
    const list = this.queues.get(queue) ?? [];
    list.push({
      id: `msg-${++this.msgSeq}`,
      body,
      visibleAt: this.clock.now + delayMs,
      receives: 0,
      sentAt: this.clock.now,
    });
    this.queues.set(queue, list);
  }

  private unitSeq = 0;

  private runOf(unit: string, fn: string, ok: boolean): void {
    this.world.journal.runs.push({
      unit,
      fn: this.entryOf(fn),
      at: this.clock.now,
      ok,
      injected: this.lastInjected,
    });
  }

  private async invokeAsync(fn: string, event: unknown, attempt: number, unit: string): Promise<void> {
    try {
      await this.invoke(fn, event);
      this.runOf(unit, fn, true);
    } catch {
      this.runOf(unit, fn, false);
      // Lambda async invocation: the function's EventInvokeConfig retries (~1 then ~2 min apart), then its DLQ
      const retries = this.routing.functions.get(fn)?.asyncRetries ?? 2;
      if (attempt < retries)
        this.after(60_000 * (attempt + 1), () => this.invokeAsync(fn, event, attempt + 1, unit));
      else
        this.deadLetter(fn, this.lastInjected, {
          messageId: unit,
          tries: attempt + 1,
          body: JSON.stringify(event),
        });
    }
  }

  entryOf(fn: string): string {
    return this.routing.functions.get(fn)?.entry.replace(/^functions\/|\/(handler|index)\.ts$/g, '') ?? fn;
  }

  /** `injected`: the last try failed on an injected fault (an injected error, the audit outage). */
  private deadLetter(
    fn: string,
    injected: boolean,
    m: Pick<SimDeadLetter, 'messageId' | 'tries' | 'body'>,
  ): void {
    const name = this.entryOf(fn);
    this.stats.deadLetters.push({ at: this.clock.now, fn: name, ...m });
    this.stats.deadLettered[name] = (this.stats.deadLettered[name] ?? 0) + 1;
    if (injected)
      this.stats.deadLetteredOnInjectedFault[name] = (this.stats.deadLetteredOnInjectedFault[name] ?? 0) + 1;
  }

  /** `onFrame`: told the journal id of this invocation (what it published, wrote, called). */
  async invoke(fn: string, event: unknown, onFrame?: (invocation: number) => void): Promise<unknown> {
    const invoke = this.invokers.get(fn);
    const name = this.entryOf(fn);
    if (!invoke) return undefined;
    this.stats.invocations[name] = (this.stats.invocations[name] ?? 0) + 1;
    const journal = this.world.journal;
    return journal.within(name, async (frame) => {
      onFrame?.(frame.id);
      // the budget's base is this fleet's runners: another fleet's (--foreign-fleet-runners) do not count
      const ours = this.world.registry
        .snapshot()
        .filter((r) => !r.labels.some((l) => l.startsWith('fleetwarden-fleet:') && l !== this.fleetLabel));
      journal.sampleRunners(this.clock.now, ours.length);
      if (this.rng() < this.options.errorRate) this.injectError(name);
      const previous = this.world.currentFunction;
      this.world.currentFunction = name;
      try {
        return await invoke(event, {
          functionName: name,
          awsRequestId: `req-${++this.requestSeq}`,
          // the deployed timeout (simulated time does not pass inside an invocation)
          getRemainingTimeInMillis: () => this.routing.functions.get(fn)?.timeoutMs ?? 3_000,
        } as Context);
      } catch (err) {
        this.stats.invocationErrors[name] = (this.stats.invocationErrors[name] ?? 0) + 1;
        throw err;
      } finally {
        this.world.currentFunction = previous;
        this.lastInjected = frame.injected;
        this.applyFleetTerminations();
      }
    });
  }

  /** Instances the fleet terminated (runner-sweep's TerminateInstances) really go, jobs and all. */
  private applyFleetTerminations(): void {
    const terminated = this.world.terminator.terminated;
    for (; this.terminationsSeen < terminated.length; this.terminationsSeen++) {
      const t = this.truth.get(terminated[this.terminationsSeen] as string);
      if (t && !LEAVING.has(t.state)) this.terminateNow(t, 'fleet-terminated');
    }
  }

  /**
   * One API error for a call the invoked function is about to make (so it cannot pile up for
   * another function): Route 53 throttling for DNS, a failed runner-list page or Auto Scaling
   * throttling for runners, a PutEvents entry failure for the webhook ingress.
   */
  private injectError(fn: string): void {
    const w = this.world;
    const inject: Record<string, () => void> = {
      'dns-sync': () => w.route53.failNext('Throttling'),
      'dns-reconcile': () => w.route53.failNext('Throttling'),
      'runner-sweep': () => w.registry.failNextListPage(1),
      'runner-drain': () =>
        this.rng() < 0.5 ? w.registry.failNextListPage(1) : w.lifecycleActions.throttleNext(1),
      'webhook-ingress': () => w.bus.failNextEntries(1),
    };
    const f = inject[fn];
    if (!f) return;
    this.stats.injectedErrors++;
    this.world.journal.markInjected();
    f();
  }

  /** Lambda's SQS poller: a batch when full or when the batching window of the oldest message ran out. */
  private async pollQueues(): Promise<void> {
    for (const [queue, consumer] of this.routing.consumers) {
      const list = this.queues.get(queue) ?? [];
      const visible = list.filter((m) => m.visibleAt <= this.clock.now);
      if (visible.length === 0) continue;
      const oldest = Math.min(...visible.map((m) => m.visibleAt));
      if (visible.length < consumer.batchSize && this.clock.now - oldest < consumer.windowMs) continue;
      const batch = visible.slice(0, consumer.batchSize);
      // as deployed: the queue's visibility timeout and redrive limit (SQS defaults if unset)
      const settings = this.routing.queues.get(queue) ?? {
        visibilityTimeoutMs: 30_000,
        maxReceiveCount: undefined,
      };
      for (const m of batch) {
        m.receives++;
        m.visibleAt = this.clock.now + settings.visibilityTimeoutMs;
      }
      const event = {
        Records: batch.map((m) => ({
          messageId: m.id,
          receiptHandle: m.id,
          body: m.body,
          attributes: {
            ApproximateReceiveCount: String(m.receives),
            SentTimestamp: String(m.sentAt),
            SenderId: 'sim',
            ApproximateFirstReceiveTimestamp: String(m.sentAt),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}`,
          awsRegion: 'eu-west-1',
        })),
      };
      let failed = new Set(batch.map((m) => m.id));
      try {
        const res = (await this.invoke(consumer.fn, event)) as SQSBatchResponse | undefined;
        failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        // whole batch returns to the queue
      }
      for (const m of batch) this.runOf(`${queue}/${m.id}`, consumer.fn, !failed.has(m.id));
      const keep: QueueMessage[] = [];
      for (const m of list) {
        if (!batch.includes(m)) keep.push(m);
        else if (failed.has(m.id)) {
          if (settings.maxReceiveCount !== undefined && m.receives >= settings.maxReceiveCount)
            this.deadLetter(consumer.fn, this.lastInjected, {
              messageId: m.id,
              tries: m.receives,
              body: m.body,
            });
          else keep.push(m);
        }
      }
      this.queues.set(queue, keep);
    }
  }

  // ---- the fleet: instances, runners, jobs, webhooks, ASG hooks -----------------------------------

  put(t: TruthInstance, state: InstanceState): void {
    t.state = state;
    this.stats.lastFleetChangeAt = this.clock.now;
    const info: InstanceInfo = {
      instanceId: t.id,
      state,
      ...(state === 'running' || state === 'pending' || state === 'shutting-down' ? { privateIp: t.ip } : {}),
      tags: tagsOf(t),
      launchTime: new Date(T0).toISOString(),
    };
    this.world.inventory.put(info);
    this.describeInGroup(t, state);
    this.emit(
      'default',
      stateChangeEvent(t.id, state, this.clock.now, `ec2-${t.id}-${state}-${this.deliverySeq++}`),
    );
  }

  /**
   * DescribeAutoScalingInstances as Auto Scaling answers it: a running instance of a group is
   * InService (until a lifecycle action takes it over); a terminated one is no longer described.
   */
  private describeInGroup(t: TruthInstance, state: InstanceState): void {
    if (!t.asg) return;
    if (state === 'running') this.world.lifecycleActions.place(t.id, t.asg, 'InService');
    if (state === 'terminated') this.world.lifecycleActions.unplace(t.id);
  }

  /** The group's lifecycle hooks exist from deployment on (DescribeLifecycleHooks knows them before any scale-in). */
  private defineAsgHooks(): void {
    for (const h of this.routing.lifecycleHooks)
      if (h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING')
        this.world.lifecycleActions.defineHook(h.autoScalingGroupName, h.name, h.heartbeatTimeoutMs);
    for (const h of this.foreignHooks)
      this.world.lifecycleActions.defineHook(ASG, h.name, h.heartbeatTimeoutMs);
  }

  private async webhook(
    action: 'queued' | 'in_progress' | 'completed',
    t: TruthInstance,
    jobId: number,
  ): Promise<void> {
    const runner =
      t.runnerId !== undefined ? this.world.registry.snapshot().find((r) => r.id === t.runnerId) : undefined;
    const payload = workflowJobPayload(action, {
      jobId,
      runnerId: action === 'queued' ? null : (t.runnerId ?? null),
      runnerName: action === 'queued' ? null : (runner?.name ?? `ci-${t.id}`),
      // the job's timestamps are the simulated clock's (the ingress refuses stale deliveries)
      at: this.clock.now,
    });
    const status = await sendWebhook(this, JSON.stringify(payload), `delivery-${jobId}-${action}`);
    if (status === 202) this.stats.webhooks.accepted++;
    else if (status === 200) this.stats.webhooks.duplicates++;
    else this.stats.webhooks.other++;
  }

  /** The webhook ingress function, if the stack has one. */
  webhookFunction(): string | undefined {
    return [...this.routing.functions.values()].find((f) => f.entry === 'functions/webhook-ingress/index.ts')
      ?.logicalId;
  }

  /** Sign a body as GitHub does (X-Hub-Signature-256 over the raw body as sent). */
  sign(body: string): Promise<string> {
    return this.github.sign(body);
  }

  private scheduleJobs(t: TruthInstance): void {
    const next = () => {
      if (t.state !== 'running' || t.runnerId === undefined) return;
      const runner = this.world.registry.snapshot().find((r) => r.id === t.runnerId);
      if (runner?.status !== 'online' || this.clock.now > T0 + this.options.durationMinutes * 60_000) return;
      const jobId = 29_679_000 + ++this.jobSeq;
      void this.webhook('queued', t, jobId);
      this.after(5_000, async () => {
        const r = this.world.registry.snapshot().find((x) => x.id === t.runnerId);
        if (!r || t.state !== 'running') return;
        this.world.registry.setBusy(r.id, true);
        t.jobRunning = true;
        t.jobId = jobId;
        t.jobStartedAt = this.clock.now;
        this.stats.jobs.started++;
        await this.webhook('in_progress', t, jobId);
        this.after(120_000 + Math.floor(this.rng() * 240_000), async () => {
          if (!t.jobRunning) return;
          t.jobRunning = false;
          this.stats.jobs.completed++;
          const still = this.world.registry.snapshot().find((x) => x.id === t.runnerId);
          if (still) this.world.registry.setBusy(still.id, false);
          await this.webhook('completed', t, jobId);
          this.after(30_000 + Math.floor(this.rng() * 180_000), next);
        });
      });
    };
    this.after(10_000 + Math.floor(this.rng() * 60_000), next);
  }

  /**
   * Launch instance number i: a third are web hosts, the rest runners, unless `as` says otherwise
   * (the faults' spoofed and outsider instances, in another team's ASG or in none).
   */
  launch(i: number, as?: { kind: 'spoofed' | 'outsider'; asg?: string }): TruthInstance {
    const kind = as?.kind ?? (i % 3 === 0 ? 'web' : 'runner');
    const id = `i-${(0x0a00000000 + i * 7919).toString(16).padStart(17, '0')}`;
    const asg = as ? as.asg : kind === 'runner' ? ASG : undefined;
    const t: TruthInstance = {
      id,
      kind,
      ...(asg ? { asg } : {}),
      // web hosts are named by tag; runners are not, so their records carry the instance id
      name: kind === 'web' ? `web-${i}` : id,
      ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 4}`,
      state: 'pending',
      jobRunning: false,
      // one runner instance never manages to register (bad image): the sweep must report it
      neverRegisters: kind === 'runner' && i === 1,
    };
    this.truth.set(id, t);
    this.world.evidence.change('RunInstances', kind === 'web' ? OPERATOR : 'autoscaling.amazonaws.com', id);
    this.put(t, 'pending');
    this.after(20_000 + Math.floor(this.rng() * 20_000), () => {
      this.put(t, 'running');
      if (t.kind === 'runner' && !t.neverRegisters) {
        this.after(40_000 + Math.floor(this.rng() * 40_000), () => {
          if (t.state !== 'running') return;
          const r = this.world.registry.register({
            name: `ci-${t.id}`,
            labels: ['self-hosted', 'linux', `${INSTANCE_LABEL_PREFIX}${t.id}`, this.fleetLabel],
          });
          t.runnerId = r.id;
          this.scheduleJobs(t);
        });
      }
    });
    return t;
  }

  /** The instance is gone: the runner process dies with it (GitHub shows the runner offline). */
  private terminateNow(t: TruthInstance, cause: KillCause, heldMs?: number): void {
    this.put(t, 'shutting-down');
    this.stopRunnerProcess(t, cause, heldMs);
    this.after(30_000 + Math.floor(this.rng() * 30_000), () => this.put(t, 'terminated'));
  }

  /** The instance stops or goes: its job dies with it, and GitHub shows its runner offline. */
  private stopRunnerProcess(t: TruthInstance, cause: KillCause, heldMs?: number): void {
    if (t.jobRunning) {
      t.jobRunning = false;
      this.stats.jobs.failed++;
      this.killedJobs.push({
        jobId: t.jobId ?? 0,
        instanceId: t.id,
        runnerName: `ci-${t.id}`,
        cause,
        at: this.clock.now,
        ...(heldMs === undefined ? {} : { heldMs }),
      });
    }
    if (t.runnerId !== undefined && this.world.registry.snapshot().some((r) => r.id === t.runnerId)) {
      this.world.registry.setBusy(t.runnerId, false);
      this.world.registry.setStatus(t.runnerId, 'offline');
    }
  }

  /**
   * Scale-in into the warm pool: the instance stops (Warmed:Stopped), and some minutes later comes
   * back InService with its runner, which picks jobs up again if it is still registered.
   */
  private toWarmPool(t: TruthInstance, cause: KillCause, heldMs: number): void {
    this.put(t, 'stopping');
    this.stopRunnerProcess(t, cause, heldMs);
    this.after(20_000, () => {
      this.put(t, 'stopped');
      this.world.warmPool.put(ASG, t.id, 'Warmed:Stopped');
    });
    this.after(5 * 60_000 + Math.floor(this.rng() * 5 * 60_000), () => {
      this.world.warmPool.forget(t.id);
      this.put(t, 'running');
      const r = this.world.registry.snapshot().find((x) => x.id === t.runnerId);
      if (r) {
        this.world.registry.setStatus(r.id, 'online');
        this.scheduleJobs(t);
      }
      noteWarmReturn(this, t);
    });
  }

  /** ASG scale-in: the terminate hook holds the instance until the lifecycle action completes or times out. */
  private scaleIn(t: TruthInstance, n: number): void {
    // the scale-in decision is the trigger CloudTrail shows (a hook, if deployed, then holds the instance)
    this.world.evidence.change('TerminateInstanceInAutoScalingGroup', 'autoscaling.amazonaws.com', t.id);
    const hook = this.routing.lifecycleHooks.find(
      (h) => h.autoScalingGroupName === ASG && h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING',
    );
    if (!hook) {
      // no terminate hook deployed: nothing holds the instance
      this.stats.lastFleetChangeAt = this.clock.now;
      this.terminateNow(t, 'other');
      return;
    }
    const startedAt = this.clock.now;
    const warm = warmPoolScaleIn(this, n);
    const extra: Record<string, string> = warm ? { Origin: 'AutoScalingGroup', Destination: 'WarmPool' } : {};
    // every terminate hook of the group holds the instance: the fleet's, and other teams' (if any)
    const hooks = [
      { name: hook.name, heartbeatTimeoutMs: hook.heartbeatTimeoutMs, foreign: false },
      ...this.foreignHooks.map((h) => ({ ...h, foreign: true })),
    ];
    const tokens = hooks.map((h, k) => {
      const ref = {
        autoScalingGroupName: ASG,
        lifecycleHookName: h.name,
        lifecycleActionToken: `token-${t.id}-${n}${k === 0 ? '' : `-${k}`}`,
        instanceId: t.id,
      };
      if (h.foreign) this.foreignTokens.add(ref.lifecycleActionToken);
      else
        this.hooks.push({
          token: ref.lifecycleActionToken,
          instanceId: t.id,
          startedAt,
          hookName: h.name,
          heartbeatTimeoutMs: h.heartbeatTimeoutMs,
        });
      this.world.lifecycleActions.begin(ref, h.heartbeatTimeoutMs, { warmPool: warm });
      const event = lifecycleEvent(ref, `asg-${t.id}-${n}${k === 0 ? '' : `-${k}`}`, this.clock.now, extra);
      this.emit('default', event);
      if (h.foreign) foreignHookOnDrainQueue(this, event);
      return ref.lifecycleActionToken;
    });
    if (warm) this.world.instanceLifecycle.put(ASG, t.id, 'Warmed:Pending:Wait');
    else this.world.instanceLifecycle.markTerminating(t.id);
    this.stats.lastFleetChangeAt = this.clock.now;
    const fleetToken = tokens[0] as string;
    const watch = () => {
      const outcomes = tokens.map((token) => this.world.lifecycleActions.outcome(token));
      if (outcomes.some((o) => o === undefined)) {
        this.after(5_000, watch);
        return;
      }
      this.world.instanceLifecycle.forget(t.id);
      const held = this.clock.now - startedAt;
      // only the fleet completes the fleet's lifecycle action; a timeout is the hook's DefaultResult
      const outcome = this.world.lifecycleActions.outcome(fleetToken);
      const cause: KillCause =
        outcome === 'timeout'
          ? 'hook-timeout'
          : held >= this.drainDeadlineMs
            ? 'fleet-deadline'
            : 'fleet-completed-hook';
      // a warm-pool runner stays online: a job it took after the fleet completed dies with the
      // other hooks' hold, not with the fleet's completion
      const completedAt = this.world.lifecycleActions.completedAt(fleetToken);
      const after = completedAt !== undefined && (t.jobStartedAt ?? 0) > completedAt;
      if (warm) this.toWarmPool(t, after ? 'other' : cause, held);
      else this.terminateNow(t, cause, held);
    };
    this.after(5_000, watch);
  }

  private scenario(): void {
    const minutes = this.options.durationMinutes;
    for (let i = 0; i < this.options.instances; i++) {
      this.at(T0 + Math.floor(this.rng() * Math.min(10, minutes / 3) * 60_000), () => this.launch(i));
    }
    const leaveFrom = T0 + minutes * 0.5 * 60_000;
    const leaveSpan = minutes * 0.4 * 60_000;
    this.at(leaveFrom, () => {
      const all = [...this.truth.values()];
      const runners = all.filter((t) => t.kind === 'runner' && t.state === 'running');
      const webs = all.filter((t) => t.kind === 'web' && t.state === 'running');
      let n = 0;
      // a third of the runners leave through the ASG hook, one dies without it (spot interruption)
      for (const t of runners.slice(0, Math.ceil(runners.length / 3))) {
        this.after(Math.floor(this.rng() * leaveSpan), () => this.scaleIn(t, n++));
      }
      const spot = runners[runners.length - 1];
      if (spot) {
        this.after(Math.floor(this.rng() * leaveSpan), () => {
          this.world.evidence.change('BidEvictedEvent', 'ec2.amazonaws.com', spot.id);
          this.terminateNow(spot, 'other');
        });
      }
      for (const t of webs.slice(0, Math.ceil(webs.length / 2))) {
        this.after(Math.floor(this.rng() * leaveSpan), () => {
          this.world.evidence.change('TerminateInstances', OPERATOR, t.id);
          this.terminateNow(t, 'other');
        });
      }
    });
    // a record a human writes mid-run, in the fleet's zone: outside the fleet's blast radius
    this.at(T0 + 5 * 60_000, () => {
      const human = { name: `ci-cache.${this.zoneName}`, type: 'A', values: ['10.9.9.9'] };
      this.foreignRecords.push(human);
      this.world.route53.seed(this.zoneId, [{ ...human, name: `${human.name}.`, ttl: 300 }]);
    });
    scheduleFaults(this);
  }

  // ---- run ------------------------------------------------------------------------------------------

  async run(check: () => boolean): Promise<void> {
    const end = T0 + (this.options.durationMinutes + this.options.settleMinutes) * 60_000;
    this.scenario();
    for (const rule of this.routing.rules) {
      if (!rule.everyMs) continue;
      const every = rule.everyMs;
      const fire = (k: number) => async () => {
        const event = {
          version: '0',
          id: `schedule-${rule.logicalId}-${k}`,
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '123456789012',
          time: new Date(this.clock.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: 'eu-west-1',
          resources: [`arn:aws:events:eu-west-1:123456789012:rule/${rule.logicalId}`],
          detail: {},
        };
        // a failed scheduled run is retried (if at all) by its async retries and by the next run
        for (const target of rule.targets)
          await this.deliver(target, event, `schedule/${rule.logicalId}/${k}`);
        this.after(every, fire(k + 1));
      };
      this.at(T0 + every, fire(1));
    }
    const tick = async () => {
      await this.pollQueues();
      const due = this.world.drainRetries.filter((r) => r.dueAt <= this.clock.now);
      if (due.length > 0) {
        const drain = [...this.routing.consumers.entries()].find(
          ([, c]) => this.routing.functions.get(c.fn)?.entry === 'functions/runner-drain/index.ts',
        );
        for (const r of due) {
          this.world.drainRetries.splice(this.world.drainRetries.indexOf(r), 1);
          if (drain) this.enqueue(drain[0], JSON.stringify(r.message));
        }
      }
      if (this.clock.now < end) this.after(1_000, tick);
    };
    this.at(T0, tick);
    let lastProgress = T0;
    let okSince: number | undefined;
    let lastCheck = T0;
    while (this.tasks.length > 0) {
      const task = this.tasks.shift() as Task;
      if (task.at > end) break;
      this.clock.now = Math.max(this.clock.now, task.at);
      await task.run();
      if (this.clock.now - lastCheck >= 60_000) {
        lastCheck = this.clock.now;
        if (okSince !== undefined && okSince <= this.stats.lastFleetChangeAt) okSince = undefined;
        if (this.clock.now > this.stats.lastFleetChangeAt) {
          if (check()) okSince ??= this.clock.now;
          else okSince = undefined;
        }
      }
      if (this.clock.now - lastProgress >= 10 * 60_000) {
        lastProgress = this.clock.now;
        const running = [...this.truth.values()].filter((t) => t.state === 'running').length;
        const invocations = Object.values(this.stats.invocations).reduce((a, b) => a + b, 0);
        this.options.progress?.(
          `  t+${Math.round((this.clock.now - T0) / 60_000)}m  ${running} running, ${this.world.registry.snapshot().length} runners, ${this.stats.jobs.started} jobs started, ${invocations} invocations`,
        );
      }
    }
    this.clock.now = end;
    if (okSince !== undefined) this.stats.convergedAt = okSince;
  }
}
