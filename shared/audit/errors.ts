import { FleetwardenError } from '../core/errors';

/** The audit record could not be stored; the action it describes must be treated as failed. */
export class AuditWriteError extends FleetwardenError {
  override readonly name: string = 'AuditWriteError';
}

/**
 * A record did not match the audit schema. It is an AuditWriteError too: a record that cannot be
 * stored, for whatever reason, fails the action it describes.
 */
export class InvalidAuditRecordError extends AuditWriteError {
  override readonly name: string = 'InvalidAuditRecordError';
}

/** Audit records could not be read back or updated (the CLI and the correlator report this). */
export class AuditStoreError extends FleetwardenError {
  override readonly name: string = 'AuditStoreError';
}

/**
 * Some records could not be correlated in a run (each isolated and backed off; the others were
 * processed). Thrown at the end of the run so the function's error alarm fires.
 */
export class CorrelationRecordsFailedError extends FleetwardenError {
  override readonly name: string = 'CorrelationRecordsFailedError';
}
