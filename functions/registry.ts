/**
 * Every remediation built on the kernel (one import + one entry each): infrastructure, the
 * simulator and the docs derive from this list.
 */
import { orphanedVolumes } from './orphaned-volumes/definition';
import { runnerDrain } from './runner-drain/definition';

export const REMEDIATIONS = [runnerDrain, orphanedVolumes] as const;
