/**
 * What the integration assertions expect, kept apart from the app so that `expectations.test.ts`
 * can run each one offline against sample API answers, with the same matcher decoding the
 * integ-tests-alpha assertion provider applies in the account.
 */
import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { AUDIT_TABLE } from '../shared/audit/table-design';

/**
 * Answer of DynamoDB Query on byRecordName: a record written by dns-sync (not by the 15-min
 * dns-reconcile repair, which would mean the event path failed) whose correlation is resolved and
 * holds the CloudTrail eventId of its ChangeResourceRecordSets call.
 */
export function correlatedRecordExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Items: Match.arrayWith([
      Match.objectLike({
        [AUDIT_TABLE.recordAttribute]: {
          S: Match.serializedJson(
            Match.objectLike({
              function: 'dns-sync',
              correlation: Match.objectLike({
                status: 'resolved',
                calls: Match.arrayWith([
                  Match.objectLike({
                    eventName: 'ChangeResourceRecordSets',
                    eventId: Match.stringLikeRegexp('^\\S+$'),
                  }),
                ]),
              }),
            }),
          ),
        },
      }),
    ]),
  });
}

/** Answer of SQS GetQueueAttributes: the queue holds no message, visible or in flight. */
export function emptyQueueExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
  });
}
