import { runnerSweep } from './runner-sweep/definition';

/** Every remediation built from a definition (shared/kernel/): infra, the simulator and the docs read them here. */
export const REMEDIATIONS = [runnerSweep] as const;
