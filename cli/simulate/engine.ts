/**
 * The generic discrete-event engine: a simulated clock and its task queue, EventBridge rules from
 * the synthesized template (at-least-once, unordered, with seeded chaos), SQS queues with their
 * visibility timeout, redelivery and dead-letter queue, schedules, asynchronous invocations with
 * their retries, and the bookkeeping of every invocation and error. It knows nothing of what the
 * functions do: a scenario (scenario.ts) drives the world on top of it through the hooks below.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { matchesPattern } from './event-pattern';
import type { Journal } from './journal';
import { seededRandom } from './rng';
import type { FunctionRoute, QueueConsumer, Routing, Target } from './routing';

/** When every simulated run starts. */
export const T0 = Date.parse('2026-11-24T08:00:00Z');

/** A function's handler as the engine calls it. */
export type Invoke = (event: unknown, context: Context) => Promise<unknown>;

/** What the engine needs of the simulated world: its journal and who is running. */
export interface EngineWorld {
  readonly journal: Journal;
  /** The function running right now (the actor of the calls it makes). */
  currentFunction: string;
}

export interface EngineOptions {
  seed: number;
  /** Minutes of activity; the run then settles for `settleMinutes`. */
  durationMinutes: number;
  settleMinutes: number;
  /** Chaos, each a probability per delivery / invocation. */
  drop: number;
  duplicate: number;
  reorder: number;
  errorRate: number;
  progress?: (line: string) => void;
  /**
   * Told of every delivery a rule makes to a target, when EventBridge makes it: each copy of a
   * duplicated event, never a dropped one, before a queue target's batching (a bench runs a
   * per-event design on the deliveries a function's rule made). It must not change the world.
   */
  onDelivery?: (delivery: RuleDelivery, at: number) => unknown;
  /**
   * Draw each function's invocation errors from a stream of its own (seeded from the seed and its
   * name), so how often a function runs changes no other draw: the scenario and every delivery stay
   * the same when, say, a queue's batching window changes (a bench comparing deployments of one
   * function). Off: every draw from the run's stream, as seeded runs always did.
   */
  errorsPerFunction?: boolean;
}

/** A rule's delivery: the event, the target, and the entry of the function the target feeds. */
export interface RuleDelivery {
  target: Target;
  /** The handler entry (e.g. functions/dns-sync/index.ts) of the function or the queue's consumer. */
  entry: string;
  event: unknown;
}

export interface SimDeadLetter {
  at: number;
  fn: string;
  messageId: string;
  tries: number;
  body: string;
}

export interface EngineStats {
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
  /** The world's last change (a scenario sets it): convergence is measured from it. */
  lastChangeAt: number;
  convergedAt?: number;
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
/** A batch taken from a queue, and the list it was taken from (messages sent meanwhile join it). */
interface Taken {
  list: QueueMessage[];
  batch: QueueMessage[];
  maxReceiveCount: number | undefined;
}

const SQS_DEFAULTS = { visibilityTimeoutMs: 30_000, maxReceiveCount: undefined };

function newStats(): EngineStats {
  return {
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
    lastChangeAt: T0,
  };
}

/** The SQS event Lambda's poller hands a consumer for a batch. */
function sqsEvent(queue: string, batch: QueueMessage[]) {
  return {
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
}

function scheduledEvent(rule: string, k: number, now: number) {
  return {
    version: '0',
    id: `schedule-${rule}-${k}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'eu-west-1',
    resources: [`arn:aws:events:eu-west-1:123456789012:rule/${rule}`],
    detail: {},
  };
}

export class EventEngine<W extends EngineWorld, X extends object = object> {
  readonly clock = { now: T0 };
  readonly rng: () => number;
  readonly world: W;
  readonly stats: EngineStats & X;
  /** Functions of the stack the world cannot run (listed as not simulated). */
  readonly skipped: string[] = [];
  /** Whether an error was injected into the invocation that just ended. */
  lastInjected = false;
  /** By function name: one API error for a call it is about to make (--error-rate). */
  protected readonly injectors = new Map<string, () => void>();
  private readonly tasks: Task[] = [];
  private seq = 0;
  private readonly invokers = new Map<string, Invoke>();
  /** The streams of the functions that own theirs (`ownsRandom`), by name. */
  private readonly streams = new Map<string, () => number>();
  private readonly queues = new Map<string, QueueMessage[]>();
  private msgSeq = 0;
  private unitSeq = 0;
  /** One request id per invocation, as Lambda gives (handlers key their audit records on it). */
  private requestSeq = 0;

  constructor(
    readonly routing: Routing,
    readonly options: EngineOptions,
    world: (clock: { now: number }) => W,
    stats: X,
  ) {
    this.rng = seededRandom(options.seed);
    this.world = world(this.clock);
    this.stats = { ...newStats(), ...stats };
  }

  /** Wire every function of the stack; one `wire` cannot run is listed as not simulated. */
  protected wireFunctions(wire: (f: FunctionRoute) => Invoke | undefined): void {
    for (const f of this.routing.functions.values()) {
      const invoke = wire(f);
      if (invoke) this.invokers.set(f.logicalId, invoke);
      else this.skipped.push(f.entry);
    }
  }

  // ---- hooks of a scenario ------------------------------------------------------------------------

  /** Lay the scenario's events out (called when the run starts, before the schedules). */
  protected layOut(): void {}
  /** At the start of every invocation, inside its journal frame. */
  protected beforeInvoke(): void {}
  /** After every invocation, whatever its outcome. */
  protected afterInvoke(): void {}
  /** Every simulated second, after the queues were polled. */
  protected onTick(): void {}
  /** Whether a function's chaos draws come from a stream of its own (by name), not the run's. */
  protected ownsRandom(_fn: string): boolean {
    return false;
  }
  /** What the progress line says about the world, before the invocation count. */
  protected progressParts(): string[] {
    return [];
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

  /**
   * The chaos draws of a function (by logical id): the run's stream, or, for one that owns its
   * stream, one seeded from the run's seed and its name (so adding it changes no other's draws).
   */
  private randomFor(fn: string | undefined): () => number {
    const name = fn === undefined ? undefined : this.entryOf(fn);
    if (name === undefined || !this.ownsRandom(name)) return this.rng;
    return this.streamNamed(name);
  }

  /** The draws of a function's invocation errors (`errorsPerFunction`: a stream of their own). */
  private errorDrawFor(fn: string): () => number {
    return this.options.errorsPerFunction
      ? this.streamNamed(`${this.entryOf(fn)}#errors`)
      : this.randomFor(fn);
  }

  /** A stream seeded from the run's seed and `name`. */
  private streamNamed(name: string): () => number {
    let stream = this.streams.get(name);
    if (!stream) {
      let h = 0x811c9dc5;
      for (const c of name) h = Math.imul(h ^ (c.codePointAt(0) ?? 0), 0x01000193);
      stream = seededRandom(this.options.seed ^ h);
      this.streams.set(name, stream);
    }
    return stream;
  }

  // ---- EventBridge: rules from the template, at-least-once, unordered -----------------------------

  emit(bus: string, event: Record<string, unknown>): void {
    this.stats.emitted++;
    for (const rule of this.routing.rules) {
      if (rule.bus !== bus || !rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        const rng = this.randomFor(
          target.kind === 'function' ? target.fn : this.routing.consumers.get(target.queue)?.fn,
        );
        if (rng() < this.options.drop) {
          this.stats.dropped++;
          continue;
        }
        const copies = rng() < this.options.duplicate ? 2 : 1;
        if (copies === 2) this.stats.duplicated++;
        for (let c = 0; c < copies; c++) {
          let delay = 300 + Math.floor(rng() * 1500);
          if (rng() < this.options.reorder) {
            delay += Math.floor(rng() * 45_000);
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
    if (this.options.onDelivery) {
      const fn = target.kind === 'function' ? target.fn : this.routing.consumers.get(target.queue)?.fn;
      const entry = (fn && this.routing.functions.get(fn)?.entry) ?? '';
      await this.options.onDelivery({ target, entry, event }, this.clock.now);
    }
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

  /** ChangeMessageVisibility: the received message (receipt handle = message id here) comes back sooner. */
  changeVisibility(receiptHandle: string, seconds: number): void {
    for (const list of this.queues.values()) {
      const m = list.find((x) => x.id === receiptHandle);
      if (m) m.visibleAt = this.clock.now + seconds * 1000;
    }
  }

  /** The queue a function consumes (by its entry), if any. */
  queueOf(entry: string): string | undefined {
    return [...this.routing.consumers.entries()].find(
      ([, c]) => this.routing.functions.get(c.fn)?.entry === entry,
    )?.[0];
  }

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
    return this.world.journal.within(name, async (frame) => {
      onFrame?.(frame.id);
      this.beforeInvoke();
      if (this.errorDrawFor(fn)() < this.options.errorRate) this.injectError(name);
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
        this.afterInvoke();
      }
    });
  }

  /** One API error for a call the invoked function is about to make, if its simulation says which. */
  private injectError(fn: string): void {
    const inject = this.injectors.get(fn);
    if (!inject) return;
    this.stats.injectedErrors++;
    this.world.journal.markInjected();
    inject();
  }

  // ---- SQS: Lambda's poller, visibility timeout, redrive ------------------------------------------

  /**
   * Lambda's SQS poller: a batch when full or when the batching window of the oldest message ran
   * out. (One await per batch, as deployed code would: the ordering of concurrent invocations on
   * the simulated clock depends on it, so keep the awaits as they are.)
   */
  private async pollQueues(): Promise<void> {
    for (const [queue, consumer] of this.routing.consumers) {
      const taken = this.takeBatch(queue, consumer);
      if (!taken) continue;
      let failed = new Set(taken.batch.map((m) => m.id));
      try {
        const res = (await this.invoke(consumer.fn, sqsEvent(queue, taken.batch))) as
          | SQSBatchResponse
          | undefined;
        failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        // whole batch returns to the queue
      }
      this.settleBatch(queue, consumer, taken, failed);
    }
  }

  /** The batch due for the consumer (each message received once more, hidden for the visibility timeout). */
  private takeBatch(queue: string, consumer: QueueConsumer): Taken | undefined {
    const list = this.queues.get(queue) ?? [];
    const visible = list.filter((m) => m.visibleAt <= this.clock.now);
    if (visible.length === 0) return undefined;
    const oldest = Math.min(...visible.map((m) => m.visibleAt));
    if (visible.length < consumer.batchSize && this.clock.now - oldest < consumer.windowMs) return undefined;
    const batch = visible.slice(0, consumer.batchSize);
    // as deployed: the queue's visibility timeout and redrive limit (SQS defaults if unset)
    const settings = this.routing.queues.get(queue) ?? SQS_DEFAULTS;
    for (const m of batch) {
      m.receives++;
      m.visibleAt = this.clock.now + settings.visibilityTimeoutMs;
    }
    return { list, batch, maxReceiveCount: settings.maxReceiveCount };
  }

  /** Deleted when done; a failed message stays, or goes to the DLQ at its maxReceiveCount. */
  private settleBatch(queue: string, consumer: QueueConsumer, taken: Taken, failed: Set<string>): void {
    const { list, batch, maxReceiveCount } = taken;
    for (const m of batch) this.runOf(`${queue}/${m.id}`, consumer.fn, !failed.has(m.id));
    const keep: QueueMessage[] = [];
    for (const m of list) {
      if (!batch.includes(m)) keep.push(m);
      else if (failed.has(m.id)) {
        if (maxReceiveCount !== undefined && m.receives >= maxReceiveCount)
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

  // ---- run ------------------------------------------------------------------------------------------

  /** Every rule with a schedule fires its targets from T0 on. */
  private scheduleRules(): void {
    for (const rule of this.routing.rules) {
      if (!rule.everyMs) continue;
      const every = rule.everyMs;
      const fire = (k: number) => async () => {
        const event = scheduledEvent(rule.logicalId, k, this.clock.now);
        // a failed scheduled run is retried (if at all) by its async retries and by the next run
        for (const target of rule.targets)
          await this.deliver(target, event, `schedule/${rule.logicalId}/${k}`);
        this.after(every, fire(k + 1));
      };
      this.at(T0 + every, fire(1));
    }
  }

  /**
   * Run to the end of the settle period. `check` (the converged invariants) is asked every simulated
   * minute after the world's last change; the run converged when it held since then to the end.
   */
  async run(check: () => boolean): Promise<void> {
    const end = T0 + (this.options.durationMinutes + this.options.settleMinutes) * 60_000;
    this.layOut();
    this.scheduleRules();
    const tick = async () => {
      await this.pollQueues();
      this.onTick();
      if (this.clock.now < end) this.after(1_000, tick);
    };
    this.at(T0, tick);
    const okSince = await this.loop(end, check);
    if (okSince !== undefined) this.stats.convergedAt = okSince;
  }

  private async loop(end: number, check: () => boolean): Promise<number | undefined> {
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
        if (okSince !== undefined && okSince <= this.stats.lastChangeAt) okSince = undefined;
        if (this.clock.now > this.stats.lastChangeAt) {
          if (check()) okSince ??= this.clock.now;
          else okSince = undefined;
        }
      }
      if (this.clock.now - lastProgress >= 10 * 60_000) {
        lastProgress = this.clock.now;
        this.reportProgress();
      }
    }
    this.clock.now = end;
    return okSince;
  }

  private reportProgress(): void {
    const invocations = Object.values(this.stats.invocations).reduce((a, b) => a + b, 0);
    const parts = [...this.progressParts(), `${invocations} invocations`];
    this.options.progress?.(`  t+${Math.round((this.clock.now - T0) / 60_000)}m  ${parts.join(', ')}`);
  }
}
