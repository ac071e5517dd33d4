import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { inMessageSpoke } from '../aws/scope-context';

// its own module: only the queue-fed functions bundle Powertools batch
/**
 * An SQS batch through Powertools' batch processor: each message handled by `perMessage`; a message
 * that throws is reported in batchItemFailures (SQS redelivers it, then dead-letters it), the others
 * are deleted. `throwOnFullBatchFailure: false`: a batch whose every message failed is answered
 * with all of them (the invocation succeeds, each message is retried on its own) instead of failing.
 * In a whole batch across scopes (whole-batch.ts, `batches: wholeBatch`) each message is handled as
 * acting in its own event's scope: its ports and audit record are that scope's.
 */
export async function sqsBatch(
  event: SQSEvent,
  context: Context | undefined,
  perMessage: (record: SQSRecord) => Promise<void>,
  options: { throwOnFullBatchFailure?: boolean } = {},
): Promise<SQSBatchResponse> {
  return processPartialResponse(
    event,
    (r: SQSRecord) => inMessageSpoke(r.messageId, () => perMessage(r)),
    new BatchProcessor(EventType.SQS),
    {
      ...(context ? { context } : {}),
      ...options,
    },
  );
}
