import type { Context } from 'aws-lambda';
import { REMEDIATIONS } from '../../functions/registry';
import { proposalGate } from '../../shared/approvals/gate';
import { approvalPolicy, readApprovalSettings } from '../../shared/approvals/settings';
import { InMemoryDecisionStore } from '../../shared/approvals/testing/in-memory-decision-store';
import { InMemoryProposalStore } from '../../shared/approvals/testing/in-memory-proposal-store';
import { RecordingNotifier } from '../../shared/approvals/testing/recording-notifier';
import { AuditWriteError } from '../../shared/audit/errors';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditRecord, AuditRecordInput } from '../../shared/audit/schema';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import { InMemoryInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { InMemoryWarmPool } from '../../shared/autoscaling/warm-pool';
import { InMemorySweepState } from '../../shared/budget/in-memory-sweep-state';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { ThrottledError } from '../../shared/core/errors';
import type { Pacing } from '../../shared/core/pacing';
import { InMemoryRoute53 } from '../../shared/dns/in-memory-route53';
import type { MessageRetry, ReceivedMessage } from '../../shared/dns/message-retry';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { InMemoryInstanceTerminator } from '../../shared/ec2/instance-terminator';
import { InMemoryVolumes } from '../../shared/ec2/testing/in-memory-volumes';
import { RunnerListingError } from '../../shared/github/errors';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { type ApprovalGate, REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { needsApproval } from '../../shared/kernel/definition';
import type { FleetPorts } from '../../shared/kernel/ports';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { readSettings } from '../../shared/kernel/settings';
import type { DrainScheduler } from '../../shared/runners/drain-scheduler';
import { InMemoryDrainState } from '../../shared/runners/drain-state';
import type { DrainQueueMessage } from '../../shared/runners/lifecycle-event';
import { InMemoryEventBus } from '../../shared/webhook/in-memory-event-bus';
import { InMemoryPersistenceLayer } from '../../shared/webhook/testing/in-memory-persistence-layer';
import { functionPrincipal, SIM_APPROVER } from './approvals';
import { HOME_REGION, SimEvidence } from './evidence';
import { FLEET_TAG } from './fleet-model';
import { Journal } from './journal';
import type { FunctionRoute } from './routing';
import { SimScopes, topologyOf, wireAcrossScopes } from './scopes';

export type Invoke = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The simulated GitHub: a small page size so the fleet's ~40 runners take several pages (pagination
 * and its shifting offsets come into play), and a rate-limit budget per window small enough that
 * bursts (a sweep listing while job events look runners up) can spend it: GitHub's own limit is
 * 5,000 requests/h per installation, shared with every other tool using the same App.
 */
export const GITHUB_SIM = { perPage: 10, rateLimit: 20, rateWindowMs: 5 * 60_000 } as const;

/** The share of GitHub's rate limit the fleet gets: requests per window. */
export interface GitHubRateLimit {
  requests: number;
  windowMs: number;
}

/** The fake registry, counting the calls its rate limit refused. */
export class SimRunnerRegistry extends InMemoryRunnerRegistry {
  rateLimited = 0;

  private async counted<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (
        err instanceof ThrottledError ||
        (err instanceof RunnerListingError && err.cause instanceof ThrottledError)
      )
        this.rateLimited++;
      throw err;
    }
  }

  override listRunners() {
    return this.counted(() => super.listRunners());
  }
  override getRunner(id: number) {
    return this.counted(() => super.getRunner(id));
  }
  override deleteRunner(id: number) {
    return this.counted(() => super.deleteRunner(id));
  }
  override findRunnersByName(name: string) {
    return this.counted(() => super.findRunnersByName(name));
  }
}

/**
 * The audit table as the simulator sees it: every write is journaled in order (intent before
 * action is checked on the order, not on the final state), and an outage window fails every write.
 */
export class SimAuditSink extends InMemoryAuditSink {
  /** [from, to) in simulated epoch ms: every write fails (an audit-table outage). */
  outage: { from: number; to: number } | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly clock: { now: number },
  ) {
    super();
  }

  override async write(input: AuditRecordInput): Promise<AuditRecord> {
    const entry = {
      seq: this.journal.seq(),
      at: this.clock.now,
      invocation: this.journal.invocation,
      recordId: String(input.recordId),
      decision: String(input.decision),
    };
    if (this.outage && this.clock.now >= this.outage.from && this.clock.now < this.outage.to) {
      this.journal.writes.push({ ...entry, ok: false });
      this.journal.markInjected();
      throw new AuditWriteError(`audit table unavailable (simulated outage) for ${entry.recordId}`);
    }
    try {
      const out = await super.write(input);
      this.journal.writes.push({ ...entry, ok: true });
      return out;
    } catch (err) {
      this.journal.writes.push({ ...entry, ok: false });
      throw err;
    }
  }
}

/** Every in-memory port the fleet's handlers use, sharing one simulated clock. */
export class World {
  readonly route53 = new InMemoryRoute53();
  readonly inventory: InMemoryInstanceInventory;
  readonly registry: SimRunnerRegistry;
  readonly lifecycleActions: InMemoryLifecycleActions;
  readonly instanceLifecycle = new InMemoryInstanceLifecycle();
  /** The runner ASGs' warm pools (empty unless a scenario parks an instance there). */
  readonly warmPool = new InMemoryWarmPool();
  readonly terminator: InMemoryInstanceTerminator;
  /**
   * EBS volumes and snapshots: DescribeVolumes/DescribeSnapshots lag 2 s, a snapshot completes in
   * 10 min, and the role's tag condition (the fleet tag) holds for CreateSnapshot and DeleteVolume.
   */
  readonly volumes: InMemoryVolumes;
  readonly journal = new Journal();
  readonly audit: SimAuditSink;
  /** runner-sweep's state table (rolling removal budget, first sightings). */
  readonly sweepState: InMemorySweepState;
  /** The state table of each runner pool's sweep, by table name: no pool spends another's budget. */
  private readonly sweepStates = new Map<string, InMemorySweepState>();
  /** The approval flow's tables and notifications (used when the simulated stack deploys approvals). */
  readonly proposals = new InMemoryProposalStore();
  /** The decisions table (writes as the on-call's own identity unless `as` a session; `decisionsAs` writes as a function). */
  readonly decisions = new InMemoryDecisionStore({ principal: SIM_APPROVER });
  readonly notifier = new RecordingNotifier();
  readonly bus: InMemoryEventBus;
  readonly idempotency: InMemoryPersistenceLayer;
  /** runner-drain's own state per lifecycle action (the sweep state table's `drain` partition). */
  readonly drainState = new InMemoryDrainState();
  /** Retries runner-drain scheduled for itself (the engine delivers them to the drain queue). */
  readonly drainRetries: Array<{ message: DrainQueueMessage; dueAt: number }> = [];
  /**
   * ChangeMessageVisibility of a received message (dns-sync's early retry of a lagging instance):
   * the engine, which owns the queues, applies it; counted as SQS calls.
   */
  onMessageRetry: ((message: ReceivedMessage, seconds: number) => void) | undefined;
  readonly messageRetry: MessageRetry & { calls: number } = {
    calls: 0,
    after: async (message, seconds) => {
      this.messageRetry.calls++;
      this.onMessageRetry?.(message, seconds);
    },
  };
  /** Retry pacing of the handlers (Route 53 backoff): the simulated clock does not sleep. */
  readonly pacing: Pacing;
  /** The function running right now (the actor of the calls it makes). */
  currentFunction = 'simulator';
  readonly evidence: SimEvidence;
  /** The spokes' own EC2 and Auto Scaling, and every call made in a scope (hub and spokes). */
  readonly scopes: SimScopes;

  constructor(
    readonly clock: { now: number },
    readonly random: () => number,
    github: GitHubRateLimit = { requests: GITHUB_SIM.rateLimit, windowMs: GITHUB_SIM.rateWindowMs },
  ) {
    const now = () => clock.now;
    this.pacing = { maxAttempts: 5, baseMs: 100, capMs: 2000, sleep: async () => undefined, random };
    this.inventory = new InMemoryInstanceInventory({ now, lagMs: 2_000 });
    this.registry = new SimRunnerRegistry({
      now,
      perPage: GITHUB_SIM.perPage,
      rateLimit: github.requests,
      rateWindowMs: github.windowMs,
    });
    this.lifecycleActions = new InMemoryLifecycleActions(now);
    this.audit = new SimAuditSink(this.journal, clock);
    this.terminator = new InMemoryInstanceTerminator(this.inventory);
    this.volumes = new InMemoryVolumes({ now, lagMs: 2_000, snapshotMs: 10 * 60_000, requireTag: FLEET_TAG });
    this.sweepState = new InMemorySweepState(now);
    this.bus = new InMemoryEventBus({ now: () => new Date(clock.now) });
    const publish = this.bus.publish.bind(this.bus);
    this.bus.publish = async (events) => {
      const before = this.bus.events.length;
      try {
        return await publish(events);
      } finally {
        this.journal.published(this.bus.events.length - before);
      }
    };
    this.idempotency = new InMemoryPersistenceLayer(now);
    this.evidence = new SimEvidence(clock, () => this.currentFunction);
    this.evidence.instrument(this);
    this.scopes = new SimScopes(this);
  }

  get now(): Date {
    return new Date(this.clock.now);
  }

  /** The sweep state table named `table` (each pool's sweep has its own); unnamed: `sweepState`. */
  sweepStateOf(table: unknown): InMemorySweepState {
    if (typeof table !== 'string') return this.sweepState;
    const state = this.sweepStates.get(table) ?? new InMemorySweepState(() => this.clock.now);
    this.sweepStates.set(table, state);
    return state;
  }

  /** The decisions table as fleet function `fn` would write it (its role session). */
  decisionsAs(fn: string): InMemoryDecisionStore {
    return this.decisions.as(functionPrincipal(fn));
  }

  /** Every port by the name definitions ask for it (shared/kernel/ports.ts), as in-memory fakes. */
  get ports(): FleetPorts {
    const drainScheduler: DrainScheduler = {
      later: async (message, delaySeconds) => {
        this.drainRetries.push({ message, dueAt: this.clock.now + delaySeconds * 1000 });
      },
    };
    return {
      audit: this.audit,
      route53: this.route53,
      inventory: this.inventory,
      terminator: this.terminator,
      registry: this.registry,
      lifecycleActions: this.lifecycleActions,
      instanceLifecycle: this.instanceLifecycle,
      warmPool: this.warmPool,
      sweepState: this.sweepState,
      drainState: this.drainState,
      drainScheduler,
      messageRetry: this.messageRetry,
      pacing: this.pacing,
      auditStore: new InMemoryAuditStore(this.audit),
      // as deployed: LookupEvents behind the 2 requests/s limiter (waiting in the invocation's own time)
      cloudTrail: new RateLimitedLookup(this.evidence.trail, { clock: this.evidence.lookupClock }),
      webhookSecret: async () => SIM_WEBHOOK_SECRET,
      eventBus: this.bus,
      idempotency: this.idempotency,
      volumes: this.volumes,
      // the approval flow's tables (the gate itself is `simulatedGate`): approvals-expire reads them
      proposals: this.proposals,
      decisions: this.decisions,
      notifier: this.notifier,
    };
  }
}

/**
 * A remediation's handler wired the way its Lambda entry wires it, with the World's fakes: the
 * ports it names, its settings read from the synthesized environment, the simulated clock, and
 * the approval gate (`simulatedGate`: the proposal gate when the stack deploys approvals; tests may
 * hand another).
 */
export function fromDefinition(
  definition: AnyRemediation,
  w: World,
  env: Record<string, string>,
  gate: ApprovalGate = simulatedGate(definition, w, env),
): Invoke {
  // a hub with spokes: wired across the accounts and regions as its entry wires it
  const topology = topologyOf(env);
  if (topology) return wireAcrossScopes(definition, w, env, topology, gate);
  // the Lambda runtime sets AWS_REGION in every function (never the template)
  const settings = readSettings(definition.settings, { AWS_REGION: HOME_REGION, ...env });
  // each runner pool's sweep reads and spends its own state table
  const all = { ...w.ports, sweepState: w.sweepStateOf(settings.sweepStateTable) } as Record<string, unknown>;
  const ports = Object.fromEntries(definition.ports.map((name: string) => [name, all[name]]));
  return definition.create(ports, settings, { now: () => w.now, gate }) as Invoke;
}

/**
 * The approval gate a remediation gets, as its Lambda entry builds it: the proposal gate over the
 * World's tables when it needs approval and the synthesized environment deploys approvals (the
 * decisions table then denies writes by anyone but the Approver role's sessions, as its resource
 * policy does); report-only otherwise.
 */
export function simulatedGate(
  definition: AnyRemediation,
  w: World,
  env: Record<string, string>,
): ApprovalGate {
  const settings = needsApproval(definition) ? readApprovalSettings(env) : undefined;
  if (!settings) return REPORT_ONLY_GATE;
  w.decisions.denyWritesExceptSessionsOf(settings.approverRoleArn);
  const ports = { proposals: w.proposals, decisions: w.decisionsAs(definition.name), notifier: w.notifier };
  return proposalGate(ports, approvalPolicy(settings), () => w.now);
}

/** Handler overrides (tests plug a deliberately broken handler in by entry). */
export type HandlerOverrides = Record<string, (w: World, env: Record<string, string>) => Invoke>;

/**
 * The handler of a routed function: the registered definition whose entry the template names,
 * wired by `fromDefinition` (no per-function code here); an override replaces it (tests plug a
 * deliberately broken handler in by entry). A function no definition names is not simulated.
 */
export function wireFunction(
  route: FunctionRoute,
  w: World,
  overrides: HandlerOverrides = {},
): Invoke | undefined {
  const override = overrides[route.entry];
  const definition = REMEDIATIONS.find((d) => d.entry === route.entry);
  const invoke = override
    ? override(w, route.env)
    : definition
      ? fromDefinition(definition, w, route.env)
      : undefined;
  // a hub with spokes: which scopes each invocation's events claim (the invariants judge the calls by them)
  const topology = topologyOf(route.env);
  if (!invoke || !topology) return invoke;
  return (event, context) => {
    w.scopes.claim(event, topology);
    return invoke(event, context);
  };
}

export const SIM_WEBHOOK_SECRET = 'simulated-webhook-secret';
