import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { alarmDescription, type RunbookAnchor } from './runbook';

/**
 * The fleet's dead-letter queue: KMS-encrypted with the given key, TLS only, 14 days (the SQS
 * maximum, so on-call has time to look). cdk-nag's SQS3 (a queue without a DLQ) is acknowledged on it,
 * naming what it is the DLQ of.
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  props: { key: kms.IKey; of: string },
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This is the dead-letter queue of ${props.of}; a DLQ has no DLQ of its own.`,
  });
  return queue;
}

/**
 * The alarm on a feed queue's dead-letter queue: any message in it (5-minute maximum) notifies the
 * topic, and so does its recovery. `summary` says what waits there; `runbook` where on-call starts.
 */
export function deadLetterAlarm(
  scope: Construct,
  id: string,
  props: { deadLetterQueue: sqs.IQueue; topic: sns.ITopic; summary: string; runbook: RunbookAnchor },
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: alarmDescription(props.summary, props.runbook),
  });
  alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
  alarm.addOkAction(new cwActions.SnsAction(props.topic));
  return alarm;
}
