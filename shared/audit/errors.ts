import { FleetwardenError } from '../core/errors';

/** The audit record could not be stored; the action it describes must be treated as failed. */
export class AuditWriteError extends FleetwardenError {}

/**
 * A record did not match the audit schema. It is an AuditWriteError too: a record that cannot be
 * stored, for whatever reason, fails the action it describes.
 */
export class InvalidAuditRecordError extends AuditWriteError {}

/** Audit records could not be read back or updated (the CLI and the correlator report this). */
export class AuditStoreError extends FleetwardenError {}
