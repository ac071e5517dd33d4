import { Duration, Names } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { FleetFunction } from './fleet-function';

/** How long and how often EventBridge retries a delivery before it goes to the target's DLQ. */
export interface DeliveryRetry {
  /** 0 to 185 (EventBridge's limits). */
  readonly retryAttempts: number;
  /** 60 s to 24 h (EventBridge's limits). */
  readonly maxEventAge: Duration;
}

/** An AWS event carries state to act on: retry it for a day, as long as EventBridge allows. */
export const EVENT_DELIVERY: DeliveryRetry = { retryAttempts: 185, maxEventAge: Duration.hours(24) };

/**
 * A schedule tick is worth delivering until the next tick replaces it: retry within one period
 * (clamped to EventBridge's 60 s to 24 h).
 */
export function scheduleDelivery(every: Duration): DeliveryRetry {
  const seconds = Math.min(86_400, Math.max(60, every.toSeconds()));
  return { retryAttempts: 185, maxEventAge: Duration.seconds(seconds) };
}

/**
 * EventBridge -> an encrypted SQS queue, trusted from the bound rule only: the queue policy lets
 * `events.amazonaws.com` send on the condition `aws:SourceArn` = that rule's ARN, and the DLQ's
 * policy likewise. Unlike `targets.SqsQueue` on an encrypted queue, it neither falls back to an
 * `aws:SourceAccount` condition nor grants EventBridge the queue's key: the fleet key's policy
 * names the fleet's rules itself (`fleetKey`).
 */
export class TrustedQueueTarget implements events.IRuleTarget {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly props: DeliveryRetry & { readonly deadLetterQueue: sqs.IQueue },
  ) {}

  bind(rule: events.IRuleRef, _id?: string): events.RuleTargetConfig {
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowEventRule${Names.nodeUniqueId(rule.node)}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
      }),
    );
    targets.addToDeadLetterQueueResourcePolicy(rule, this.props.deadLetterQueue);
    return {
      ...targets.bindBaseTargetConfig(this.props),
      arn: this.queue.queueArn,
      targetResource: this.queue,
    };
  }
}

/**
 * EventBridge -> a FleetFunction, with a retry policy and the function's own encrypted, alarmed
 * dead-letter queue as the target DLQ (CDK conditions its policy on the rule's ARN).
 */
export function functionTarget(ff: FleetFunction, retry: DeliveryRetry): targets.LambdaFunction {
  return new targets.LambdaFunction(ff.fn, { deadLetterQueue: ff.deadLetterQueue, ...retry });
}
