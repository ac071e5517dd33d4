/**
 * The fleet scenario on top of the generic engine (engine.ts): instances launched and leaving (web
 * hosts named by tag, runners in the runner ASG), runners registering and taking jobs (with their
 * workflow_job webhooks), an operator terminating hosts, a spot interruption, scale-ins held by
 * the ASG's terminate lifecycle hooks, the warm pool. The adversarial faults and per-function
 * watches come from the simulations (faults.ts, functions/simulations.ts).
 */

import { SIMULATIONS } from '../../functions/simulations';
import { type AwsScope, sameScope } from '../../shared/aws/scope';
import { ConfigError } from '../../shared/core/errors';
import { stateChangeEvent, tagChangeEvent } from '../../shared/dns/testing/state-change-event';
import { parseZonesSetting, ZoneSet } from '../../shared/dns/zone-set';
import type { InstanceInfo, InstanceState } from '../../shared/ec2/port';
import type { GitHubRunner } from '../../shared/github/port';
import { INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { workflowJobPayload } from '../../shared/webhook/testing/payloads';
import { scenarioNamed } from './approvals';
import { type EngineOptions, type EngineStats, EventEngine, T0 } from './engine';
import { FAULT_FLAGS, type Faults } from './fault-flags';
import { GENERIC_FAULTS } from './faults';
import {
  ASG,
  type FleetHook,
  type ForeignHook,
  type KillCause,
  type KilledJob,
  LEAVING,
  OPERATOR,
  type TruthInstance,
  tagsOf,
  type WarmReturn,
} from './fleet-model';
import { forwards, inScope } from './forwarding';
import { JOB_LABELS, SimJobQueue, WORKLOAD_LABEL } from './github-jobs';
import { faultKey } from './remediation-simulation';
import { seededRandom } from './rng';
import type { Routing } from './routing';
import { scaleIn } from './scale-in';
import { HUB } from './scopes';
import { WebhookSender } from './webhooks';
import { type GitHubRateLimit, type HandlerOverrides, World, wireFunction } from './world';

export { T0 } from './engine';
export { ASG, type KillCause, type KilledJob, lifecycleEvent, type TruthInstance } from './fleet-model';

export interface SimOptions extends EngineOptions {
  /** Instances launched during the run (a third are plain DNS hosts, the rest runners). */
  instances: number;
  /** GitHub budget of the fleet (default: 20 requests per 5 min, so the limit comes into play). */
  githubRateLimit?: GitHubRateLimit;
  overrides?: HandlerOverrides;
  /** Adversarial faults (fault-flags.ts), each off unless set. */
  faults?: Partial<Faults>;
  /** A named scenario (approvals.ts `SCENARIOS`): its deployment and events on top of the fleet's. @default 'fleet' */
  scenario?: string;
  /**
   * Hold the churn per instance the same at every fleet size (the cost bench): the runner that never
   * registers and the spot interruption become one per `churnPer` instances (none in a smaller
   * fleet) instead of one per run, so a bigger fleet has no larger share of working runners. With
   * fleet sizes in multiples of 18 the shares scaled in (a third of the runners) and terminated (half
   * the web hosts) are exact too. Unset: one of each per run (the scenario the invariants run).
   */
  churnPer?: number;
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

interface FleetStats {
  /** Spoke events no spoke forwarding rule matched (they never reach the hub). */
  notForwarded?: number;
  webhooks: { sent: number; accepted: number; duplicates: number; other: number };
  /** `cancelled`: queued for 24 h with no idle runner to take them (GitHub cancels them). */
  jobs: { started: number; completed: number; failed: number; cancelled?: number };
}
export type SimStats = EngineStats & FleetStats;

/** The fleet's events on the default bus and its ground truth, driven by the engine's clock. */
export class Engine extends EventEngine<World, FleetStats> {
  readonly truth = new Map<string, TruthInstance>();
  readonly foreignRecords: Array<{ name: string; type: string; values: string[] }>;
  /** The first forward zone (the only one without ZONES): the foreign records are in it. */
  readonly zoneId: string;
  readonly zoneName: string;
  /** Every zone dns-sync is deployed with (ZONES; else the one of HOSTED_ZONE_ID and ZONE_NAME). */
  readonly zones: ZoneSet;
  /** runner-drain's DRAIN_DEADLINE_SECONDS: past it, completing a busy runner's hook is by design. */
  readonly drainDeadlineMs: number;
  /** Terminate lifecycle actions the ASG started for the fleet's hook. */
  readonly hooks: FleetHook[] = [];
  /** Jobs that died with their instance, and who let the instance go (ground truth). */
  readonly killedJobs: KilledJob[] = [];
  /** Other teams' terminate hooks on the runner ASG (--foreign-hooks): they complete by timing out. */
  readonly foreignHooks: ForeignHook[] = [];
  /** Lifecycle action tokens of foreign hooks: the fleet must never heartbeat or complete them. */
  readonly foreignTokens = new Set<string>();
  /** Runner instances back from the warm pool (the runner each had when it came back). */
  readonly warmReturns: WarmReturn[] = [];
  /** Whether the n-th scale-in of a runner goes to the warm pool (--warm-pool-scale-in). */
  toWarmPool: (n: number) => boolean = () => false;
  /**
   * The fleet identity label runners register with (contract 4: `fleetwarden-fleet:<FLEET_ID>`, the
   * id runner-sweep is deployed with; the sweep removes only runners that carry it).
   */
  readonly fleetLabel: string;
  readonly webhooks: WebhookSender;
  /** Every job the simulated GitHub gave a runner: the runner as GitHub saw it at that moment. */
  readonly jobStarts: Array<{ jobId: number; at: number; runner: GitHubRunner; labels: string[] }> = [];
  /** The simulated GitHub's queue of jobs waiting for a runner. */
  readonly jobQueue: SimJobQueue;
  /** The instances whose workload is queuing jobs (one workload per instance). */
  private readonly workloads = new Set<string>();
  /** The instance whose workload queued each job still queued or running. */
  private readonly jobOrigin = new Map<number, TruthInstance>();
  private jobSeq = 0;
  private deliverySeq = 0;
  /** How far `world.terminator.terminated` has been turned into terminations. */
  private terminationsSeen = 0;

  constructor(
    routing: Routing,
    override readonly options: SimOptions,
  ) {
    super(
      routing,
      options,
      (clock) => new World(clock, seededRandom(options.seed ^ 0x5eed), options.githubRateLimit),
      {
        webhooks: { sent: 0, accepted: 0, duplicates: 0, other: 0 },
        jobs: { started: 0, completed: 0, failed: 0 },
      },
    );
    for (const key of Object.keys(options.faults ?? {}))
      if (!(key in FAULT_FLAGS)) throw new ConfigError(`unknown simulator fault: ${key}`);
    this.wireFunctions((f) => wireFunction(f, this.world, options.overrides));
    const env = (fn: string) =>
      [...routing.functions.values()].find((f) => f.entry === `functions/${fn}/index.ts`)?.env;
    const dns = env('dns-sync');
    if (dns?.ZONES) {
      this.zones = parseZonesSetting(dns.ZONES);
      this.zoneId = this.zones.primary.id;
      this.zoneName = this.zones.primary.name.slice(0, -1);
    } else {
      this.zoneId = dns?.HOSTED_ZONE_ID ?? 'Z0SIMULATED';
      this.zoneName = dns?.ZONE_NAME ?? 'fleet.example.internal';
      this.zones = ZoneSet.of([{ id: this.zoneId, name: this.zoneName }]);
    }
    this.drainDeadlineMs = Number(env('runner-drain')?.DRAIN_DEADLINE_SECONDS ?? 1800) * 1000;
    this.fleetLabel = `fleetwarden-fleet:${env('runner-sweep')?.FLEET_ID ?? 'sim-fleet'}`;
    this.foreignRecords = [
      { name: `legacy.${this.zoneName}`, type: 'A', values: ['192.0.2.10'] },
      { name: `mail.${this.zoneName}`, type: 'TXT', values: ['"v=spf1 -all"'] },
      // a record named like one of ours, but without our ownership marker: never touched
      { name: `web-0.${this.zoneName}`, type: 'A', values: ['192.0.2.20'] },
    ];
    // Route 53 returns names fully qualified, with the root dot
    for (const z of this.zones.zones) {
      const primary = z.id === this.zoneId;
      this.world.route53.addZone(
        z.id,
        primary ? this.zoneName : z.name.slice(0, -1),
        primary ? this.foreignRecords.map((r) => ({ ...r, name: `${r.name}.`, ttl: 300 })) : [],
      );
    }
    this.world.onMessageRetry = (message, seconds) => this.changeVisibility(message.receiptHandle, seconds);
    this.webhooks = new WebhookSender(this);
    this.jobQueue = new SimJobQueue(this.world.registry);
    this.installSimulations();
    this.defineAsgHooks();
    // events the webhook ingress publishes travel on the custom bus
    const webhookBus = routing.buses[0];
    this.world.bus.subscribe((e) => {
      if (webhookBus)
        this.emit(webhookBus, {
          version: '0',
          account: '123456789012',
          region: 'eu-west-1',
          resources: [],
          ...e,
        });
    });
  }

  /** Whether a fault (by its flag) is on in this run. */
  faultOn(flag: string): boolean {
    return Boolean(this.options.faults?.[faultKey(flag)]);
  }

  private activeFaults() {
    return [...GENERIC_FAULTS, ...SIMULATIONS.flatMap((s) => s.faults)].filter((f) => this.faultOn(f.flag));
  }

  /**
   * Each simulation's own part of the scenario, the faults that change the world's ports (in list
   * order: a later one wraps an earlier one's port), then every simulation's watches, and the
   * errors --error-rate injects.
   */
  private installSimulations(): void {
    for (const s of SIMULATIONS) s.install?.(this);
    for (const f of this.activeFaults()) f.install?.(this);
    for (const s of SIMULATIONS) s.watch?.(this);
    for (const s of SIMULATIONS) {
      const inject = s.injectError;
      if (inject) this.injectors.set(s.function, () => inject(this));
    }
  }

  // ---- the engine's hooks -------------------------------------------------------------------------

  protected override ownsRandom(fn: string): boolean {
    return SIMULATIONS.some((s) => s.function === fn && s.ownRandom);
  }

  protected override beforeInvoke(): void {
    // the budget's base is this fleet's runners: another fleet's (--foreign-fleet-runners) do not count
    const ours = this.world.registry
      .snapshot()
      .filter((r) => !r.labels.some((l) => l.startsWith('fleetwarden-fleet:') && l !== this.fleetLabel));
    this.world.journal.sampleRunners(this.clock.now, ours.length);
  }

  /** Instances the fleet terminated (runner-sweep's TerminateInstances) really go, jobs and all. */
  protected override afterInvoke(): void {
    const terminated = this.world.terminator.terminated;
    for (; this.terminationsSeen < terminated.length; this.terminationsSeen++) {
      const t = this.truth.get(terminated[this.terminationsSeen] as string);
      if (t && !LEAVING.has(t.state)) this.terminateNow(t, 'fleet-terminated');
    }
  }

  /** Retries runner-drain scheduled for itself go to its queue when due. */
  protected override onTick(): void {
    // idle runners poll for queued jobs (a runner also goes idle without the scenario: a long job ends)
    if (this.jobQueue.size > 0 && (this.clock.now - T0) % 5_000 === 0)
      this.after(0, () => this.dispatchJobs());
    const due = this.world.drainRetries.filter((r) => r.dueAt <= this.clock.now);
    if (due.length === 0) return;
    const drain = this.queueOf('functions/runner-drain/index.ts');
    for (const r of due) {
      this.world.drainRetries.splice(this.world.drainRetries.indexOf(r), 1);
      if (drain) this.enqueue(drain, JSON.stringify(r.message));
    }
  }

  protected override progressParts(): string[] {
    const running = [...this.truth.values()].filter((t) => t.state === 'running').length;
    return [
      `${running} running`,
      `${this.world.registry.snapshot().length} runners`,
      `${this.stats.jobs.started} jobs started`,
    ];
  }

  // ---- instances ----------------------------------------------------------------------------------

  put(t: TruthInstance, state: InstanceState): void {
    t.state = state;
    this.stats.lastChangeAt = this.clock.now;
    // EC2's LaunchTime is the last start (dns-reconcile reads the zone after a recent one)
    if (state === 'pending') t.launchedAt = Math.floor(this.clock.now / 1000) * 1000;
    this.describe(t);
    this.describeInGroup(t, state);
    const event = stateChangeEvent(t.id, state, this.clock.now, `ec2-${t.id}-${state}-${this.deliverySeq++}`);
    this.emitIn(t.scope, t.scope ? inScope(event, t.scope) : event);
  }

  /** The instance as its scope's DescribeInstances shows it from now on. */
  private describe(t: TruthInstance): void {
    const state = t.state;
    const info: InstanceInfo = {
      instanceId: t.id,
      state,
      ...(state === 'running' || state === 'pending' || state === 'shutting-down' ? { privateIp: t.ip } : {}),
      tags: tagsOf(t),
      launchTime: new Date(t.launchedAt ?? T0).toISOString(),
    };
    this.world.scopes.parts(t.scope).inventory.put(info);
  }

  /**
   * A web host's name tag changes (a human renames it): its scope describes the new tag, and the
   * tagging service raises a "Tag Change on Resource" naming the instance by ARN, in its scope.
   */
  rename(t: TruthInstance, name: string): void {
    t.name = name;
    this.stats.lastChangeAt = this.clock.now;
    this.describe(t);
    const tags = tagsOf(t);
    const event = tagChangeEvent(
      t.id,
      Object.keys(tags),
      tags,
      this.clock.now,
      `tag-${t.id}-${this.deliverySeq++}`,
    );
    this.emitIn(t.scope, t.scope ? inScope(event, t.scope) : event);
  }

  /**
   * An AWS event raised in `scope`: on the hub's default bus when it is the hub's (or no scope);
   * a spoke's reaches the hub only through its spoke stack's forwarding rules (as deployed).
   */
  emitIn(scope: AwsScope | undefined, event: Record<string, unknown>): void {
    if (!scope || sameScope(scope, HUB) || forwards(this.routing, scope, event)) this.emit('default', event);
    else this.stats.notForwarded = (this.stats.notForwarded ?? 0) + 1;
  }

  /**
   * DescribeAutoScalingInstances as Auto Scaling answers it: a running instance of a group is
   * InService (until a lifecycle action takes it over); a terminated one is no longer described.
   */
  private describeInGroup(t: TruthInstance, state: InstanceState): void {
    if (!t.asg) return;
    const actions = this.world.scopes.parts(t.scope).lifecycleActions;
    if (state === 'running') actions.place(t.id, t.asg, 'InService');
    if (state === 'terminated') actions.unplace(t.id);
  }

  /**
   * The outcome of a lifecycle action as its scope's Auto Scaling reads it (the scale-in's watch
   * asks every 5 s); the drain's watch wraps this to see a hook time out, in the hub or a spoke.
   */
  actionOutcome(scope: AwsScope | undefined, token: string): 'CONTINUE' | 'ABANDON' | 'timeout' | undefined {
    return this.world.scopes.parts(scope).lifecycleActions.outcome(token);
  }

  /** The group's lifecycle hooks exist from deployment on (DescribeLifecycleHooks knows them before any scale-in). */
  private defineAsgHooks(): void {
    for (const h of this.routing.lifecycleHooks)
      if (h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING')
        this.world.lifecycleActions.defineHook(h.autoScalingGroupName, h.name, h.heartbeatTimeoutMs);
    for (const h of this.foreignHooks)
      this.world.lifecycleActions.defineHook(ASG, h.name, h.heartbeatTimeoutMs);
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
      neverRegisters:
        kind === 'runner' && (this.options.churnPer ? i % this.options.churnPer === 1 : i === 1),
    };
    this.truth.set(id, t);
    this.world.evidence.change('RunInstances', kind === 'web' ? OPERATOR : 'autoscaling.amazonaws.com', id);
    this.put(t, 'pending');
    this.after(20_000 + Math.floor(this.rng() * 20_000), () => {
      this.put(t, 'running');
      if (t.kind === 'runner' && !t.neverRegisters)
        this.after(40_000 + Math.floor(this.rng() * 40_000), () => this.registerRunner(t));
    });
    return t;
  }

  /** A running runner instance registers its runner (with the fleet's labels) and takes jobs. */
  registerRunner(t: TruthInstance): Promise<void> | undefined {
    if (t.state !== 'running') return;
    const r = this.world.registry.register({
      name: `ci-${t.id}`,
      labels: ['self-hosted', 'linux', WORKLOAD_LABEL, `${INSTANCE_LABEL_PREFIX}${t.id}`, this.fleetLabel],
    });
    t.runnerId = r.id;
    this.scheduleJobs(t);
    return this.dispatchJobs();
  }

  /** The instance is gone: the runner process dies with it (GitHub shows the runner offline). */
  terminateNow(t: TruthInstance, cause: KillCause, heldMs?: number): void {
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
  parkInWarmPool(t: TruthInstance, cause: KillCause, heldMs: number): void {
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
        this.after(0, () => this.dispatchJobs());
      }
      this.warmReturns.push({
        instanceId: t.id,
        ...(t.runnerId === undefined ? {} : { runnerId: t.runnerId }),
        at: this.clock.now,
      });
    });
  }

  // ---- jobs and their webhooks --------------------------------------------------------------------

  private async webhook(
    action: 'queued' | 'in_progress' | 'completed',
    jobId: number,
    runner?: { id: number; name: string },
  ): Promise<void> {
    const payload = workflowJobPayload(action, {
      jobId,
      runnerId: runner?.id ?? null,
      runnerName: runner?.name ?? null,
      labels: [...JOB_LABELS],
      // the job's timestamps are the simulated clock's (the ingress refuses stale deliveries)
      at: this.clock.now,
    });
    const status = await this.webhooks.send(JSON.stringify(payload), `delivery-${jobId}-${action}`);
    if (status === 202) this.stats.webhooks.accepted++;
    else if (status === 200) this.stats.webhooks.duplicates++;
    else this.stats.webhooks.other++;
  }

  /**
   * While its runner is online in the activity period, the instance's workload queues job after job
   * (the next one a while after the last one ended; none while it waits in the queue). GitHub gives
   * each queued job to an idle online runner with the job's labels (github-jobs.ts): this instance's
   * own runner when it is one, else another.
   */
  private scheduleJobs(t: TruthInstance): void {
    if (this.workloads.has(t.id)) return;
    this.workloads.add(t.id);
    this.after(10_000 + Math.floor(this.rng() * 60_000), () => this.queueJob(t));
  }

  private queueJob(t: TruthInstance): void {
    const runner = this.world.registry.snapshot().find((r) => r.id === t.runnerId);
    const active = this.clock.now <= T0 + this.options.durationMinutes * 60_000;
    if (t.state !== 'running' || runner?.status !== 'online' || !active) {
      this.workloads.delete(t.id);
      return;
    }
    const jobId = 29_679_000 + ++this.jobSeq;
    const job = { id: jobId, labels: JOB_LABELS, queuedAt: this.clock.now, prefer: runner.id };
    this.jobQueue.enqueue(job);
    this.jobOrigin.set(jobId, t);
    void this.webhook('queued', jobId);
    // a runner's poll picks it up a few seconds later
    this.after(5_000, () => this.dispatchJobs());
  }

  /** GitHub hands queued jobs to idle runners; a job queued for 24 h is cancelled. */
  private async dispatchJobs(): Promise<void> {
    const instanceOf = (runnerId: number) =>
      [...this.truth.values()].find((x) => x.runnerId === runnerId && x.state === 'running');
    // one at a time, each awaited (its webhook is an invocation) and given from the registry as it
    // is then: the order of the scenario's draws must not depend on the functions' timing
    for (;;) {
      const [given] = this.jobQueue.assign((r) => instanceOf(r.id) !== undefined, 1);
      if (!given) break;
      await this.runJob(instanceOf(given.runner.id) as TruthInstance, given.runner, given.job.id);
    }
    for (const job of this.jobQueue.expire(this.clock.now)) {
      this.stats.jobs.cancelled = (this.stats.jobs.cancelled ?? 0) + 1;
      this.endWorkload(job.id);
    }
  }

  /** The workload that queued the job stops (its job died or was cancelled). */
  private endWorkload(jobId: number): void {
    const origin = this.jobOrigin.get(jobId);
    this.jobOrigin.delete(jobId);
    if (origin) this.workloads.delete(origin.id);
  }

  private async runJob(t: TruthInstance, r: GitHubRunner, jobId: number): Promise<void> {
    this.jobStarts.push({ jobId, at: this.clock.now, runner: r, labels: [...JOB_LABELS] });
    this.world.registry.setBusy(r.id, true);
    t.jobRunning = true;
    t.jobId = jobId;
    t.jobStartedAt = this.clock.now;
    this.stats.jobs.started++;
    await this.webhook('in_progress', jobId, r);
    this.after(120_000 + Math.floor(this.rng() * 240_000), async () => {
      const origin = this.jobOrigin.get(jobId);
      // the job died with its instance: its workload stops
      if (!t.jobRunning || t.jobId !== jobId) return this.endWorkload(jobId);
      t.jobRunning = false;
      this.stats.jobs.completed++;
      const still = this.world.registry.snapshot().find((x) => x.id === t.runnerId);
      if (still) this.world.registry.setBusy(still.id, false);
      await this.webhook('completed', jobId, r);
      this.jobOrigin.delete(jobId);
      await this.dispatchJobs();
      if (origin) this.after(30_000 + Math.floor(this.rng() * 180_000), () => this.queueJob(origin));
    });
  }

  // ---- the scenario -------------------------------------------------------------------------------

  protected override layOut(): void {
    const minutes = this.options.durationMinutes;
    for (let i = 0; i < this.options.instances; i++) {
      this.at(T0 + Math.floor(this.rng() * Math.min(10, minutes / 3) * 60_000), () => this.launch(i));
    }
    this.at(T0 + minutes * 0.5 * 60_000, () => this.leave(minutes * 0.4 * 60_000));
    // a record a human writes mid-run, in the fleet's zone: outside the fleet's blast radius
    this.at(T0 + 5 * 60_000, () => {
      const human = { name: `ci-cache.${this.zoneName}`, type: 'A', values: ['10.9.9.9'] };
      this.foreignRecords.push(human);
      this.world.route53.seed(this.zoneId, [{ ...human, name: `${human.name}.`, ttl: 300 }]);
    });
    for (const f of this.activeFaults()) f.schedule?.(this);
    scenarioNamed(this.options.scenario).schedule?.(this);
  }

  /**
   * Over `span`: a third of the runners leave through the ASG hook, one dies without it (spot
   * interruption), an operator terminates half the web hosts.
   */
  private leave(span: number): void {
    const all = [...this.truth.values()];
    // the hub's runner ASG (a spoke's scales its own runners in: multi-account.ts)
    const runners = all.filter((t) => t.kind === 'runner' && !t.scope && t.state === 'running');
    const webs = all.filter((t) => t.kind === 'web' && t.state === 'running');
    let n = 0;
    for (const t of runners.slice(0, Math.ceil(runners.length / 3))) {
      this.after(Math.floor(this.rng() * span), () => scaleIn(this, t, n++));
    }
    const per = this.options.churnPer;
    const spots = per
      ? runners.slice(runners.length - Math.floor(this.options.instances / per))
      : runners.slice(-1);
    for (const spot of spots) {
      this.after(Math.floor(this.rng() * span), () => {
        this.world.evidence.change('BidEvictedEvent', 'ec2.amazonaws.com', spot.id);
        this.terminateNow(spot, 'other');
      });
    }
    for (const t of webs.slice(0, Math.ceil(webs.length / 2))) {
      this.after(Math.floor(this.rng() * span), () => {
        this.world.evidence.change('TerminateInstances', OPERATOR, t.id);
        this.terminateNow(t, 'other');
      });
    }
  }
}
