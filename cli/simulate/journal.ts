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
    | 'DeleteRunner';
  /** The request id noted into the running audit record (links the call to the record holding it). */
  requestId: string;
  resources: string[];
  outcome: 'success' | 'error';
  /** Lifecycle calls: the hook and token named. */
  hook?: { name: string; token: string; asg: string };
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
  kind: 'json' | 'form' | 'replay';
  status: number | undefined;
  /** Events the ingress put on the bus while handling this delivery. */
  published: number;
  injected: boolean;
}

export class Journal {
  private counter = 0;
  private invocationSeq = 0;
  /** The invocation running now (0: none, the simulator itself). */
  invocation = 0;
  injectedNow = false;
  readonly writes: AuditWrite[] = [];
  readonly calls: MutatingCall[] = [];
  readonly runs: UnitRun[] = [];
  readonly webhooks: WebhookDelivery[] = [];
  /** Runners registered with GitHub, sampled at each invocation start. */
  readonly runnerCounts: Array<{ at: number; count: number }> = [];

  seq(): number {
    return ++this.counter;
  }

  begin(): { id: number; previous: number; injected: boolean } {
    const frame = { id: ++this.invocationSeq, previous: this.invocation, injected: this.injectedNow };
    this.invocation = frame.id;
    this.injectedNow = false;
    return frame;
  }

  /** Ends the invocation; returns whether an error was injected into it. */
  end(frame: { previous: number; injected: boolean }): boolean {
    const injected = this.injectedNow;
    this.invocation = frame.previous;
    this.injectedNow = frame.injected;
    return injected;
  }

  sampleRunners(at: number, count: number): void {
    const last = this.runnerCounts.at(-1);
    if (last?.count === count) return;
    this.runnerCounts.push({ at, count });
  }
}
