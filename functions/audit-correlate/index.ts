import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { auditCorrelate } from './definition';

/** The Lambda entry: audit-correlate with its real adapters (LookupEvents behind the 2 requests/s limiter). */
export const handler = lambdaHandler(auditCorrelate, (settings) => ({
  auditStore: new DynamoDbAuditStore(settings.auditTable),
  cloudTrail: new RateLimitedLookup(new LookupEventsAdapter()),
}));
