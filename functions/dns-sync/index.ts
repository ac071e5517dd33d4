import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { ec2ClientFor } from '../../shared/aws/scoped-clients';
import { DEFAULT_PACING } from '../../shared/core/pacing';
import { SqsMessageRetry } from '../../shared/dns/message-retry';
import { route53PortOf } from '../../shared/dns/route53-accounts';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { ungatedScopedLambdaHandler } from '../../shared/kernel/scoped-lambda-handler';
import { dnsSync } from './definition';

/**
 * The Lambda entry of dns-sync: its definition wired to the real adapters; each event's instance
 * is described in the event's own account and region (hub and spokes), the zones stay the hub's.
 */
export const handler = ungatedScopedLambdaHandler(dnsSync, (settings, scope) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  // a zone of another account: through the DNS role there
  route53: route53PortOf(settings),
  inventory: new Ec2InstanceInventory(ec2ClientFor(scope)),
  messageRetry: new SqsMessageRetry(settings.queueUrl),
  pacing: DEFAULT_PACING,
}));
