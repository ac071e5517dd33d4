import type { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import type { LifecycleActionRef } from '../../shared/autoscaling/port';
import * as recorder from '../../shared/aws/call-recorder';
import { ensureIntent, hasIntentWriter } from '../../shared/aws/call-recorder';
import { InMemoryCloudTrail } from '../../shared/cloudtrail/in-memory-cloudtrail';
import { trailRegionFor } from '../../shared/cloudtrail/port';
import type { InMemoryRoute53 } from '../../shared/dns/in-memory-route53';
import type { InMemoryInstanceTerminator } from '../../shared/ec2/instance-terminator';
import type { InMemoryVolumes } from '../../shared/ec2/testing/in-memory-volumes';
import type { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import type { Journal, MutatingCall } from './journal';

/**
 * The parts of the simulated world `instrument` wraps: its fleet-mutating fake ports and the journal
 * the invariants read (the World provides them; named here so evidence.ts does not import world.ts).
 */
export interface InstrumentedWorld {
  readonly journal: Journal;
  readonly route53: InMemoryRoute53;
  readonly lifecycleActions: InMemoryLifecycleActions;
  readonly terminator: InMemoryInstanceTerminator;
  readonly registry: InMemoryRunnerRegistry;
  readonly volumes: InMemoryVolumes;
}

/** How each fleet-mutating fake-port call is named to the intent writer (as the adapters name it). */
const ABOUT: Record<MutatingCall['operation'], string> = {
  ChangeResourceRecordSets: 'Route53.ChangeResourceRecordSets',
  CompleteLifecycleAction: 'AutoScaling.CompleteLifecycleAction',
  RecordLifecycleActionHeartbeat: 'AutoScaling.RecordLifecycleActionHeartbeat',
  TerminateInstances: 'EC2.TerminateInstances',
  DeleteRunner: 'GitHub DELETE /orgs/{org}/actions/runners/{runner_id}',
  CordonRunner: 'GitHub PUT /orgs/{org}/actions/runners/{runner_id}/labels',
  CreateSnapshot: 'EC2.CreateSnapshot',
  CreateTags: 'EC2.CreateTags',
  DeleteVolume: 'EC2.DeleteVolume',
};

export const HOME_REGION = 'eu-west-1';
/** The simulated fleet's account (pseudo parameter AWS::AccountId of the synthesized stack). */
export const SIM_ACCOUNT = '123456789012';
const ACCOUNT = SIM_ACCOUNT;

/** A simulated function's execution role (its CloudTrail session issuer; its ARN in the environment). */
export const simRoleArn = (fn: string) => `arn:aws:iam::${ACCOUNT}:role/Fleetwarden-${fn}`;

/**
 * Evidence for the simulated fleet: every MUTATING call a handler makes through the in-memory ports
 * (ChangeResourceRecordSets, Complete/RecordLifecycleAction*, TerminateInstances, CreateSnapshot,
 * DeleteVolume, CreateTags; GitHub runner DELETE and label changes) first waits for the step's intent record, then is noted as an AWS
 * call of the running audit record (`noteAwsCall`) and delivered to an in-memory CloudTrail ~5 min
 * later, with the calling function's role session as actor, so audit-correlate can resolve records
 * locally. Reads are not noted (they would only slow the fake trail down).
 */
/** A lifecycle call as the journal names it: the instance, and the action (token absent: by instance id). */
const hook = (ref: LifecycleActionRef) => ({
  resources: [ref.instanceId],
  hook: {
    name: ref.lifecycleHookName,
    ...(ref.lifecycleActionToken ? { token: ref.lifecycleActionToken } : {}),
    asg: ref.autoScalingGroupName,
  },
});

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
    n = this.nextRequest(),
    requestParameters?: Record<string, unknown>,
  ): void {
    const time = new Date(this.clock.now).toISOString();
    const requestId = `sim-req-${n.toString().padStart(6, '0')}`;
    recorder.noteAwsCall({ service, operation, time, requestId, outcome });
    const fn = this.currentFunction();
    this.deliver({
      eventId: `sim-evt-${n.toString().padStart(6, '0')}`,
      eventName: operation,
      eventSource,
      eventTime: time,
      requestId,
      actor: `arn:aws:sts::${ACCOUNT}:assumed-role/Fleetwarden-${fn}/${fn}`,
      sessionIssuer: simRoleArn(fn),
      region: trailRegionFor(service, HOME_REGION),
      resources,
      ...(requestParameters ? { requestParameters } : {}),
    });
  }

  nextRequest(): number {
    return ++this.seq;
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
    sessionIssuer?: string;
    region: string;
    resources: string[];
    requestParameters?: Record<string, unknown>;
  }): void {
    this.delivered++;
    this.trail.deliver({ ...e, resources: e.resources.map((name) => ({ name })) }, { region: e.region });
  }

  /** Replace `obj[method]` with: await the intent record, journal the call, note its evidence. */
  private wrapMutating<T extends object, K extends keyof T>(
    w: InstrumentedWorld,
    obj: T,
    method: K,
    operation: MutatingCall['operation'],
    note: (n: number, outcome: 'success' | 'error', args: never[]) => void,
    describe: (...args: never[]) => Pick<MutatingCall, 'resources' | 'hook'>,
  ): void {
    const original = (obj[method] as unknown as (...a: unknown[]) => Promise<unknown>).bind(obj);
    (obj as Record<K, unknown>)[method] = async (...args: unknown[]) => {
      await ensureIntent(ABOUT[operation]);
      if (!hasIntentWriter()) this.withoutIntent.push(`${this.currentFunction()} ${ABOUT[operation]}`);
      const n = this.nextRequest();
      const entry: MutatingCall = {
        seq: w.journal.seq(),
        at: this.clock.now,
        invocation: w.journal.invocation,
        fn: w.journal.fn,
        operation,
        requestId: `sim-req-${n.toString().padStart(6, '0')}`,
        outcome: 'success',
        ...describe(...(args as never[])),
      };
      w.journal.calls.push(entry);
      try {
        const out = await original(...args);
        note(n, 'success', args as never[]);
        return out;
      } catch (err) {
        entry.outcome = 'error';
        note(n, 'error', args as never[]);
        throw err;
      }
    };
  }

  /** How an AWS call is noted: into the running audit record and, later, the fake CloudTrail. */
  private awsNote(
    service: string,
    operation: string,
    source: string,
    resources: (...a: never[]) => string[],
    params?: (...a: never[]) => Record<string, unknown>,
  ) {
    return (n: number, outcome: 'success' | 'error', args: never[]) =>
      this.call(service, operation, source, resources(...args), outcome, n, params?.(...args));
  }

  /**
   * Wrap the World's ports so their mutating calls wait for the intent record (contract 1), leave
   * evidence (the audit record's calls, CloudTrail) and are journaled in order for the invariants.
   */
  instrument(w: InstrumentedWorld): void {
    const wrap = <T extends object, K extends keyof T>(
      obj: T,
      method: K,
      operation: MutatingCall['operation'],
      note: (n: number, outcome: 'success' | 'error', args: never[]) => void,
      describe: (...args: never[]) => Pick<MutatingCall, 'resources' | 'hook'>,
    ) => this.wrapMutating(w, obj, method, operation, note, describe);
    const aws = this.awsNote.bind(this);
    wrap(
      w.route53,
      'changeRecordSets',
      'ChangeResourceRecordSets',
      // as CloudTrail logs it: the zone in requestParameters (what dns-reconcile's trail look reads)
      aws(
        'Route53',
        'ChangeResourceRecordSets',
        'route53.amazonaws.com',
        (zoneId: string) => [zoneId],
        (zoneId: string) => ({ hostedZoneId: zoneId }),
      ),
      (zoneId: string) => ({ resources: [zoneId] }),
    );
    for (const [method, operation] of [
      ['complete', 'CompleteLifecycleAction'],
      ['heartbeat', 'RecordLifecycleActionHeartbeat'],
    ] as const) {
      wrap(
        w.lifecycleActions,
        method,
        operation,
        aws('AutoScaling', operation, 'autoscaling.amazonaws.com', (ref: LifecycleActionRef) => [
          ref.instanceId,
        ]),
        hook,
      );
    }
    wrap(
      w.terminator,
      'terminate',
      'TerminateInstances',
      aws('EC2', 'TerminateInstances', 'ec2.amazonaws.com', (ids: readonly string[]) => [...ids]),
      (ids: readonly string[]) => ({ resources: [...ids] }),
    );
    // EBS (orphaned-volumes): the snapshot is tagged on creation (no separate CreateTags); CreateTags
    // writes the instance tag on a live fleet instance's volume
    for (const [method, operation] of [
      ['snapshot', 'CreateSnapshot'],
      ['delete', 'DeleteVolume'],
      ['tagVolume', 'CreateTags'],
    ] as const) {
      wrap(
        w.volumes,
        method,
        operation,
        aws('EC2', operation, 'ec2.amazonaws.com', (volumeId: string) => [volumeId]),
        (volumeId: string) => ({ resources: [volumeId] }),
      );
    }
    // GitHub: no CloudTrail, but the call is noted into the audit record like the adapter does
    for (const [method, operation, http, status] of [
      ['deleteRunner', 'DeleteRunner', 'DELETE', 204],
      ['cordonRunner', 'CordonRunner', 'PUT', 200],
    ] as const) {
      wrap(
        w.registry,
        method,
        operation,
        (n, outcome) =>
          recorder.noteGitHubCall({
            method: http,
            route: `${http} ${ABOUT[operation].split(' ')[2]}`,
            time: new Date(this.clock.now).toISOString(),
            status: outcome === 'success' ? status : 500,
            requestId: `sim-req-${n.toString().padStart(6, '0')}`,
          }),
        (id: number) => ({ resources: [String(id)] }),
      );
    }
  }
}
