import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What happened during a simulated run, in order: every audit sink write (not only the final
 * state), every fleet-mutating call a handler made through a fake port, every invocation and the
 * unit of work (async event, queue message, webhook delivery) it served, the runner count over
 * time and every webhook delivery. The invariants (invariants.ts) read it after the run.
 */

export interface AuditWrite {
  seq: number;
  at: number;
  invocation: number;
  recordId: string;
  decision: string;
  ok: boolean;
}

export interface MutatingCall {
  seq: number;
  at: number;
  invocation: number;
  fn: string;
  operation:
    | 'ChangeResourceRecordSets'
    | 'CompleteLifecycleAction'
    | 'RecordLifecycleActionHeartbeat'
    | 'TerminateInstances'
    | 'DeleteRunner'
    | 'CordonRunner'
    | 'CreateSnapshot'
    | 'CreateTags'
    | 'DeleteVolume';
  /** The request id noted into the running audit record (links the call to the record holding it). */
  requestId: string;
  resources: string[];
  outcome: 'success' | 'error';
  /** Lifecycle calls: the hook and token named. */
  /** The lifecycle action a call named: its token, absent when named by instance id. */
  hook?: { name: string; token?: string; asg: string };
}

/** One try of a unit of work: an async event delivery, a queue message, a webhook delivery. */
export interface UnitRun {
  unit: string;
  fn: string;
  at: number;
  ok: boolean;
  /** The simulator injected an API error into this invocation (--error-rate). */
  injected: boolean;
}

export interface WebhookDelivery {
  deliveryId: string;
  kind: 'json' | 'form' | 'replay' | 'stale-replay';
  status: number | undefined;
  /** Events the ingress put on the bus while handling this delivery. */
  published: number;
  injected: boolean;
}

interface Frame {
  id: number;
  fn: string;
  injected: boolean;
}

export class Journal {
  private counter = 0;
  private invocationSeq = 0;
  /** The invocation an async context belongs to (invocations interleave: a webhook is not awaited). */
  private readonly frames = new AsyncLocalStorage<Frame>();
  readonly writes: AuditWrite[] = [];
  readonly calls: MutatingCall[] = [];
  readonly runs: UnitRun[] = [];
  readonly webhooks: WebhookDelivery[] = [];
  /** Runners registered with GitHub, sampled at each invocation start. */
  readonly runnerCounts: Array<{ at: number; count: number }> = [];

  seq(): number {
    return ++this.counter;
  }

  /** The invocation running in this async context (0: none, the simulator itself). */
  get invocation(): number {
    return this.frames.getStore()?.id ?? 0;
  }

  /** The function of the invocation running in this async context ('simulator' outside one). */
  get fn(): string {
    return this.frames.getStore()?.fn ?? 'simulator';
  }

  /** Run one invocation of `fn` in its own frame; `body` sees the frame (was an error injected?). */
  within<T>(fn: string, body: (frame: Frame) => Promise<T>): Promise<T> {
    const frame = { id: ++this.invocationSeq, fn, injected: false };
    return this.frames.run(frame, () => body(frame));
  }

  /** Events each invocation put on the bus (invocations interleave: a bus-wide count would mix them). */
  private readonly publishes = new Map<number, number>();

  published(count: number): void {
    const id = this.invocation;
    this.publishes.set(id, (this.publishes.get(id) ?? 0) + count);
  }

  publishedBy(invocation: number): number {
    return this.publishes.get(invocation) ?? 0;
  }

  /** The simulator injected a fault (an API error, the audit outage) into the running invocation. */
  markInjected(): void {
    const frame = this.frames.getStore();
    if (frame) frame.injected = true;
  }

  sampleRunners(at: number, count: number): void {
    const last = this.runnerCounts.at(-1);
    if (last?.count === count) return;
    this.runnerCounts.push({ at, count });
  }
}
