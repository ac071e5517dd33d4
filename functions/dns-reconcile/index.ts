import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DEFAULT_PACING } from '../../shared/core/pacing';
import { route53PortOf } from '../../shared/dns/route53-accounts';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { dnsReconcile } from './definition';

/** The Lambda entry of dns-reconcile: its definition wired to the real adapters. */
export const handler = lambdaHandler(dnsReconcile, (settings) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  // a zone of another account: through the DNS role there
  route53: route53PortOf(settings),
  inventory: new Ec2InstanceInventory(),
  pacing: DEFAULT_PACING,
}));
