import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { trailClientFor } from '../../shared/aws/scoped-clients';
import { cloudTrailClientFor, LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { ungatedLambdaHandler } from '../../shared/kernel/lambda-handler';
import { auditCorrelate } from './definition';

/**
 * The Lambda entry: audit-correlate with its real adapters (LookupEvents behind the 2 requests/s
 * limiter); a spoke's trail is read through its read-only trail role (hub and spokes).
 */
export const handler = ungatedLambdaHandler(auditCorrelate, (settings) => ({
  auditStore: new DynamoDbAuditStore(settings.auditTable),
  cloudTrail: new RateLimitedLookup(
    new LookupEventsAdapter(
      (region, account) =>
        (account ? trailClientFor({ account, region }) : undefined) ?? cloudTrailClientFor(region),
    ),
  ),
}));
