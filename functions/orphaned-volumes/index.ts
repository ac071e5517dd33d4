import { approvalGate } from '../../shared/approvals/wiring';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2Volumes } from '../../shared/ec2/volumes';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { orphanedVolumes } from './definition';

/**
 * The Lambda entry: the definition wired to the real adapters (one memoised client each); its
 * deletion asks the approval gate (its wiring is used only when approvals are deployed; imported
 * statically: a dynamic import made esbuild keep all of zod, +367 KB).
 */
export const handler = lambdaHandler(
  orphanedVolumes,
  (settings) => ({
    audit: new DynamoDbAuditSink(settings.auditTable),
    // its own records read back: the proof of whose an orphaned volume was
    auditStore: new DynamoDbAuditStore(settings.auditTable),
    inventory: new Ec2InstanceInventory(),
    volumes: new Ec2Volumes(),
  }),
  { approvals: async () => ({ approvalGate }) },
);
