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

/** Answer of the probe's first run: the irreversible action is only reported, naming its proposal. */
export function proposedExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Payload: Match.objectLike({
      decision: 'reported',
      reason: Match.stringLikeRegexp('waits for'),
      details: Match.objectLike({ proposalId: Match.stringLikeRegexp('^fwp-') }),
    }),
  });
}

/** Answer of the approver: its decision is stored (a retry of the call finds it stored already). */
export function decisionWrittenExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Payload: Match.objectLike({
      proposalId: Match.stringLikeRegexp('^fwp-'),
      written: Match.stringLikeRegexp('^(written|exists)$'),
    }),
  });
}

/** Answer of the probe's run after the approval: acted, its record naming the proposal and approvers. */
export function executedExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Payload: Match.objectLike({
      decision: 'acted',
      details: Match.objectLike({
        approval: Match.objectLike({
          proposalId: Match.stringLikeRegexp('^fwp-'),
          by: Match.arrayWith([Match.stringLikeRegexp('fleetwarden-integ-approver')]),
        }),
      }),
    }),
  });
}

/** Answer of the run after that: nothing done, the proposal was executed once already. */
export function alreadyExecutedExpected(): ExpectedResult {
  return ExpectedResult.objectLike({
    Payload: Match.objectLike({ decision: 'reported', reason: Match.stringLikeRegexp('already executed') }),
  });
}
