import { type CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { ThrottledError } from '../../core/errors';
import { CloudTrailLookupError } from '../errors';
import type { InMemoryCloudTrail } from '../in-memory-cloudtrail';
import type { LookupAttributeKey } from '../port';
import { toRecorded } from './recorded';

/**
 * Scripts a CloudTrail SDK stub so LookupEvents answers like the API, backed by an InMemoryCloudTrail:
 * wire-shaped events (CloudTrailEvent JSON strings), NextToken, ThrottlingException, and
 * InvalidLookupAttributesException for anything but exactly one attribute.
 */
export function scriptLookupEvents(
  stub: AwsClientStub<CloudTrailClient>,
  trail: InMemoryCloudTrail,
  region = 'eu-west-1',
) {
  let requestNo = 0;
  stub.on(LookupEventsCommand).callsFake(async (input) => {
    const attrs = input.LookupAttributes ?? [];
    if (attrs.length !== 1) {
      throw Object.assign(new Error('You cannot specify more than one lookup attribute.'), {
        name: 'InvalidLookupAttributesException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if ((input.MaxResults ?? 50) > 50)
      throw Object.assign(new Error('MaxResults'), { name: 'InvalidMaxResultsException' });
    try {
      const page = await trail.lookupPage({
        region,
        attribute: {
          key: attrs[0]?.AttributeKey as LookupAttributeKey,
          value: attrs[0]?.AttributeValue ?? '',
        },
        start: input.StartTime as Date,
        end: input.EndTime as Date,
        ...(input.NextToken ? { nextToken: input.NextToken } : {}),
      });
      return {
        $metadata: { httpStatusCode: 200, requestId: `ct-req-${++requestNo}` },
        Events: page.events.map(toRecorded),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    } catch (err) {
      if (err instanceof ThrottledError)
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400, requestId: `ct-req-${++requestNo}` },
        });
      if (err instanceof CloudTrailLookupError) {
        const [name, message] = err.message.split(': ');
        throw Object.assign(new Error(message), { name });
      }
      throw err;
    }
  });
}
