import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DEFAULT_PACING } from '../../shared/core/pacing';
import { SqsMessageRetry } from '../../shared/dns/message-retry';
import { Route53ZoneAdapter } from '../../shared/dns/route53-zone-adapter';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { dnsSync } from './definition';

/** The Lambda entry of dns-sync: its definition wired to the real adapters. */
export const handler = lambdaHandler(dnsSync, (settings) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  route53: new Route53ZoneAdapter(),
  inventory: new Ec2InstanceInventory(),
  messageRetry: new SqsMessageRetry(settings.queueUrl),
  pacing: DEFAULT_PACING,
}));
