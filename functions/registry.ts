/**
 * Every function of the fleet, each a definition run by the kernel (one import + one entry each):
 * infrastructure, the simulator and the docs derive from this list.
 */
import { approvalsExpire } from './approvals-expire/definition';
import { auditCorrelate } from './audit-correlate/definition';
import { dnsReconcile } from './dns-reconcile/definition';
import { dnsSync } from './dns-sync/definition';
import { orphanedVolumes } from './orphaned-volumes/definition';
import { runnerDrain } from './runner-drain/definition';
import { runnerJobWatch } from './runner-job-watch/definition';
import { runnerSweep } from './runner-sweep/definition';
import { webhookIngress } from './webhook-ingress/definition';

export const REMEDIATIONS = [
  dnsSync,
  dnsReconcile,
  runnerDrain,
  runnerSweep,
  runnerJobWatch,
  webhookIngress,
  auditCorrelate,
  orphanedVolumes,
  // deployed only where approvals are configured (needsApprovals)
  approvalsExpire,
] as const;
