/**
 * Every remediation built on the kernel (one import + one entry each): infrastructure, the
 * simulator and the docs derive from this list.
 */
import { dnsReconcile } from './dns-reconcile/definition';
import { dnsSync } from './dns-sync/definition';
import { orphanedVolumes } from './orphaned-volumes/definition';
import { runnerDrain } from './runner-drain/definition';
import { runnerSweep } from './runner-sweep/definition';

export const REMEDIATIONS = [dnsSync, dnsReconcile, runnerDrain, runnerSweep, orphanedVolumes] as const;
