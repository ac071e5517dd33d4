import { Duration, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

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
