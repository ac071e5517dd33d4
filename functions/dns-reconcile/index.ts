import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { fleetAcrossScopes } from '../../shared/aws/across-scopes';
import { ec2ClientFor } from '../../shared/aws/scoped-clients';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { DEFAULT_PACING } from '../../shared/core/pacing';
import { route53PortOf } from '../../shared/dns/route53-accounts';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { ungatedLambdaHandler } from '../../shared/kernel/lambda-handler';
import { dnsReconcile } from './definition';

/**
 * The Lambda entry of dns-reconcile: its definition wired to the real adapters; the zone is
 * compared with the whole fleet's instances (hub and spokes: a spoke instance's record is not stale).
 */
export const handler = ungatedLambdaHandler(dnsReconcile, (settings) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  // dns-sync's records of a changed instance: the evidence that spares a zone read
  auditStore: new DynamoDbAuditStore(settings.auditTable),
  // a zone of another account: through the DNS role there
  route53: route53PortOf(settings),
  inventory: fleetAcrossScopes((scope) => ({ inventory: new Ec2InstanceInventory(ec2ClientFor(scope)) }))
    .inventory,
  pacing: DEFAULT_PACING,
  // zone changes made outside the fleet (us-east-1: Route 53 is global), under LookupEvents' 2 requests/s
  cloudTrail: new RateLimitedLookup(new LookupEventsAdapter()),
}));
