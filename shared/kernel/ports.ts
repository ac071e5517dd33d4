import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DecisionReader, ProposalNotifier, ProposalStore } from '../approvals/port';
import type { AuditSink } from '../audit/port';
import type { AuditStore } from '../audit/store-port';
import type { InstanceLifecycle } from '../autoscaling/instance-lifecycle';
import type { LifecycleActions } from '../autoscaling/port';
import type { WarmPool } from '../autoscaling/warm-pool';
import type { SweepStateStore } from '../budget/port';
import type { CloudTrailLookup } from '../cloudtrail/port';
import type { Pacing } from '../core/pacing';
import type { MessageRetry } from '../dns/message-retry';
import type { Route53Port } from '../dns/port';
import type { InstanceTerminator } from '../ec2/instance-terminator';
import type { InstanceInventory } from '../ec2/port';
import type { VolumePort } from '../ec2/volumes';
import type { RunnerRegistry } from '../github/port';
import type { DrainScheduler } from '../runners/drain-scheduler';
import type { DrainStateStore } from '../runners/drain-state';
import type { EventPublisher } from '../webhook/publisher';
import type { WebhookSecret } from '../webhook/secret';

/**
 * Every port a remediation can ask for, by name. A definition names the ones it needs
 * (`Remediation.ports`); production wires adapters for exactly those (each entry imports only its
 * own adapters), the simulator hands the same names its in-memory fakes, tests hand fakes too.
 * A new port is added here once, with its adapter, its fake and their shared contract suite.
 */
export interface FleetPorts {
  audit: AuditSink;
  route53: Route53Port;
  inventory: InstanceInventory;
  terminator: InstanceTerminator;
  registry: RunnerRegistry;
  lifecycleActions: LifecycleActions;
  instanceLifecycle: InstanceLifecycle;
  warmPool: WarmPool;
  /** The budget ledger and first sightings (the sweep state table). */
  sweepState: SweepStateStore;
  drainState: DrainStateStore;
  drainScheduler: DrainScheduler;
  messageRetry: MessageRetry;
  /** How retry loops back off (real sleeps in production; none in the simulator and tests). */
  pacing: Pacing;
  /** Reading audit records back and storing their CloudTrail correlation (audit-correlate). */
  auditStore: AuditStore;
  /** CloudTrail LookupEvents, kept under its 2 requests/s (RateLimitedLookup; its clock in the simulator). */
  cloudTrail: CloudTrailLookup;
  /** The GitHub webhook secret (cached by the adapter; a constant in the simulator). */
  webhookSecret: WebhookSecret;
  /** The fleet's GitHub event bus (PutEvents). */
  eventBus: EventPublisher;
  /** Powertools idempotency store that publishes each webhook delivery once (the deliveries table). */
  idempotency: BasePersistenceLayer;
  /** EBS volumes and their snapshots (orphaned-volumes). */
  volumes: VolumePort;
  /** Approvals (issue 12): the proposals table (the gate; approvals-expire). */
  proposals: ProposalStore;
  /** Approvals: reading humans' decisions (never writing them: only the Approver role does). */
  decisions: DecisionReader;
  /** Approvals: telling humans a proposal waits for them (SNS topic). */
  notifier: ProposalNotifier;
}

export type PortName = keyof FleetPorts;
export type PortsOf<N extends PortName> = Pick<FleetPorts, N>;
