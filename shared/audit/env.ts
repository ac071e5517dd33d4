/**
 * Environment variable through which functions receive the audit table name. Defined here, next to
 * the audit code that reads it, so functions never import the CDK app; the constructs set it from here.
 */
export const AUDIT_TABLE_ENV = 'AUDIT_TABLE_NAME';
