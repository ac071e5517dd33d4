import { approvalGate } from '../../shared/approvals/wiring';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { ec2ClientFor } from '../../shared/aws/scoped-clients';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2Volumes } from '../../shared/ec2/volumes';
import { scopedLambdaHandler } from '../../shared/kernel/remediation';
import { orphanedVolumes } from './definition';

/**
 * The Lambda entry: the definition wired to the real adapters (one memoised client per scope): a
 * terminated instance's event is handled in its own account/region, a scheduled run in every
 * scope (hub and spokes); its deletion asks the approval gate (its wiring is used only when
 * approvals are deployed; imported statically: a dynamic import made esbuild keep all of zod, +367 KB).
 */
export const handler = scopedLambdaHandler(
  orphanedVolumes,
  (settings, scope) => ({
    audit: new DynamoDbAuditSink(settings.auditTable),
    // its own records read back: the proof of whose an orphaned volume was
    auditStore: new DynamoDbAuditStore(settings.auditTable),
    inventory: new Ec2InstanceInventory(ec2ClientFor(scope)),
    volumes: new Ec2Volumes(ec2ClientFor(scope)),
  }),
  { approvals: async () => ({ approvalGate }) },
);
