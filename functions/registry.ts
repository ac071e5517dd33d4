import { dnsReconcile } from './dns-reconcile/definition';
import { dnsSync } from './dns-sync/definition';

/** Every remediation, declared once (functions/<name>/definition.ts): infra, simulator and docs derive from these. */
export const REMEDIATIONS = [dnsSync, dnsReconcile] as const;
