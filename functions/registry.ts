import { runnerDrain } from './runner-drain/definition';

/** Every remediation built from its definition (shared/kernel/): infra, the simulator and docs read this list. */
export const REMEDIATIONS = [runnerDrain] as const;
