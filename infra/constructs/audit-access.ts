import type { IGrantable } from 'aws-cdk-lib/aws-iam';

/**
 * What a feature construct needs from the audit store: the table name (passed to its functions as
 * AUDIT_TABLE_NAME) and a grant that allows writing audit records and nothing else.
 * Implemented by the AuditTrail construct; tests may pass a small stand-in.
 */
export interface AuditAccess {
  readonly tableName: string;
  grantWrite(grantee: IGrantable): void;
}
