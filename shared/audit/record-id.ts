import { createHash } from 'node:crypto';

/**
 * A deterministic audit record id: the same decision about the same subject, taken because of the
 * same triggering event, always gets the same id. Redelivered events therefore overwrite their
 * record instead of duplicating it (EventBridge and Lambda async delivery are at-least-once).
 */
export function auditRecordId(parts: {
  function: string;
  triggerId: string;
  action: string;
  subject: string;
}): string {
  const digest = createHash('sha256')
    .update([parts.function, parts.triggerId, parts.action, parts.subject].join('\u0000'))
    .digest('hex');
  return `${parts.function}:${digest.slice(0, 32)}`;
}
