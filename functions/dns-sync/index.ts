import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DEFAULT_PACING } from '../../shared/core/pacing';
import { SqsMessageRetry } from '../../shared/dns/message-retry';
import { route53PortOf } from '../../shared/dns/route53-accounts';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { dnsSync } from './definition';

/** The Lambda entry of dns-sync: its definition wired to the real adapters. */
export const handler = lambdaHandler(dnsSync, (settings) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  // a zone of another account: through the DNS role there
  route53: route53PortOf(settings),
  inventory: new Ec2InstanceInventory(),
  messageRetry: new SqsMessageRetry(settings.queueUrl),
  pacing: DEFAULT_PACING,
}));
