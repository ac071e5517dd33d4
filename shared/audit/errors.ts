import { FleetwardenError } from '../core/errors';

/** The audit record could not be stored; the action it describes must be treated as failed. */
export class AuditWriteError extends FleetwardenError {}

/** A record did not match the audit schema. */
export class InvalidAuditRecordError extends FleetwardenError {}
