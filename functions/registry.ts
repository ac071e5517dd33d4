import { auditCorrelate } from './audit-correlate/definition';
import { runnerJobWatch } from './runner-job-watch/definition';
import { webhookIngress } from './webhook-ingress/definition';

/** Every remediation of the fleet, as definitions: infra and the simulator are derived from them. */
export const REMEDIATIONS = [runnerJobWatch, webhookIngress, auditCorrelate] as const;
