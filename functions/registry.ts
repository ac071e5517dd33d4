/**
 * Every remediation built on the kernel (one import + one entry each): infrastructure, the
 * simulator and the docs derive from this list.
 */
import { orphanedVolumes } from './orphaned-volumes/definition';
import { runnerDrain } from './runner-drain/definition';
import { runnerSweep } from './runner-sweep/definition';

export const REMEDIATIONS = [runnerDrain, runnerSweep, orphanedVolumes] as const;
