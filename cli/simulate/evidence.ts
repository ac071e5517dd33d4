import { isFleetMutatingAwsCall, isFleetMutatingGitHubRequest } from '../../shared/audit/fleet-mutating';
import { ensureIntent, hasIntentWriter, noteAwsCall } from '../../shared/aws/call-recorder';
import { InMemoryCloudTrail } from '../../shared/cloudtrail/in-memory-cloudtrail';
import { trailRegionFor } from '../../shared/cloudtrail/port';
import type { World } from './world';

export const HOME_REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

/**
 * Evidence for the simulated fleet: every MUTATING call a handler makes through the in-memory ports
 * (ChangeResourceRecordSets, Complete/RecordLifecycleAction*, TerminateInstances; GitHub runner
 * DELETE and label changes) first waits for the step's intent record, then is noted as an AWS
 * call of the running audit record (`noteAwsCall`) and delivered to an in-memory CloudTrail ~5 min
 * later, with the calling function's role session as actor, so audit-correlate can resolve records
 * locally. Reads are not noted (they would only slow the fake trail down).
 */
export class SimEvidence {
  readonly trail: InMemoryCloudTrail;
  /**
   * Time handlers spent waiting on the CloudTrail rate limiter. Simulated time does not move during
   * an invocation, so waits accumulate here (monotonic) and both the limiter and the trail see them.
   */
  private waited = 0;
  readonly lookupClock = {
    now: () => this.clock.now + this.waited,
    sleep: async (ms: number) => {
      this.waited += ms;
    },
  };
  private seq = 0;
  delivered = 0;
  /**
   * Fleet-mutating fake-port calls made with no intent record ("<function> <call>"): made outside an
   * auditedAction step. Calls inside a step whose intent write failed are never applied at all.
   */
  readonly withoutIntent: string[] = [];

  constructor(
    private readonly clock: { now: number },
    private readonly currentFunction: () => string,
  ) {
    this.trail = new InMemoryCloudTrail(this.lookupClock, 5 * 60_000);
  }

  /** A call a handler made: into the audit record being written, and into CloudTrail. */
  call(
    service: string,
    operation: string,
    eventSource: string,
    resources: string[],
    outcome: 'success' | 'error',
  ): void {
    const n = ++this.seq;
    const time = new Date(this.clock.now).toISOString();
    const requestId = `sim-req-${n.toString().padStart(6, '0')}`;
    noteAwsCall({ service, operation, time, requestId, outcome });
    const fn = this.currentFunction();
    this.deliver({
      eventId: `sim-evt-${n.toString().padStart(6, '0')}`,
      eventName: operation,
      eventSource,
      eventTime: time,
      requestId,
      actor: `arn:aws:sts::${ACCOUNT}:assumed-role/Fleetwarden-${fn}/${fn}`,
      region: trailRegionFor(service, HOME_REGION),
      resources,
    });
  }

  /** A change someone else made (the ASG launching or terminating, a spot interruption). */
  change(eventName: string, actor: string, instanceId: string): void {
    const n = ++this.seq;
    this.deliver({
      eventId: `sim-evt-${n.toString().padStart(6, '0')}`,
      eventName,
      eventSource: 'ec2.amazonaws.com',
      eventTime: new Date(this.clock.now).toISOString(),
      requestId: `sim-req-${n.toString().padStart(6, '0')}`,
      actor,
      region: HOME_REGION,
      resources: [instanceId],
    });
  }

  private deliver(e: {
    eventId: string;
    eventName: string;
    eventSource: string;
    eventTime: string;
    requestId: string;
    actor: string;
    region: string;
    resources: string[];
  }): void {
    this.delivered++;
    this.trail.deliver({ ...e, resources: e.resources.map((name) => ({ name })) }, { region: e.region });
  }

  /**
   * Like the SDK middleware and the GitHub adapter: a fleet-mutating call waits for the step's intent
   * record (`ensureIntent`); if it cannot be written, the call is refused before the fake applies it.
   */
  private async intent(about: string, fleetMutating: boolean): Promise<void> {
    if (!fleetMutating) return;
    await ensureIntent(about);
    if (!hasIntentWriter()) this.withoutIntent.push(`${this.currentFunction()} ${about}`);
  }

  /** Wrap the World's ports so their mutating calls wait for an intent record and leave evidence. */
  instrument(w: World): void {
    const wrap = <T extends object, K extends keyof T>(
      obj: T,
      method: K,
      service: string,
      operation: string,
      source: string,
      resources: (...args: never[]) => string[],
    ) => {
      const original = (obj[method] as unknown as (...a: unknown[]) => Promise<unknown>).bind(obj);
      (obj as Record<K, unknown>)[method] = async (...args: unknown[]) => {
        await this.intent(`${service}.${operation}`, isFleetMutatingAwsCall(service, operation));
        try {
          const out = await original(...args);
          this.call(service, operation, source, resources(...(args as never[])), 'success');
          return out;
        } catch (err) {
          this.call(service, operation, source, resources(...(args as never[])), 'error');
          throw err;
        }
      };
    };
    wrap(
      w.route53,
      'changeRecordSets',
      'Route53',
      'ChangeResourceRecordSets',
      'route53.amazonaws.com',
      (zoneId: string) => [zoneId],
    );
    wrap(
      w.lifecycleActions,
      'complete',
      'AutoScaling',
      'CompleteLifecycleAction',
      'autoscaling.amazonaws.com',
      (ref: { instanceId: string }) => [ref.instanceId],
    );
    wrap(
      w.lifecycleActions,
      'heartbeat',
      'AutoScaling',
      'RecordLifecycleActionHeartbeat',
      'autoscaling.amazonaws.com',
      (ref: { instanceId: string }) => [ref.instanceId],
    );
    // GitHub runner changes: intent only (the fake registry is not an AWS service: no CloudTrail)
    for (const [method, http, route] of [
      ['deleteRunner', 'DELETE', '/orgs/{org}/actions/runners/{runner_id}'],
      ['cordonRunner', 'PUT', '/orgs/{org}/actions/runners/{runner_id}/labels'],
    ] as const) {
      const original = w.registry[method].bind(w.registry) as (...a: unknown[]) => Promise<unknown>;
      (w.registry as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        await this.intent(`GitHub ${http} ${route}`, isFleetMutatingGitHubRequest(http, route));
        return original(...args);
      };
    }
    wrap(
      w.terminator,
      'terminate',
      'EC2',
      'TerminateInstances',
      'ec2.amazonaws.com',
      (ids: readonly string[]) => [...ids],
    );
  }
}
