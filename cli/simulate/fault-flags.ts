/**
 * The adversarial faults' CLI flags, derived from the cross-cutting faults (faults.ts) and every
 * remediation's simulation (functions/simulations.ts): adding a remediation's fault needs no edit
 * here. Loads no handler: the CLI reads these before it silences the handlers' loggers.
 */
import { SIMULATIONS } from '../../functions/simulations';
import { GENERIC_FAULTS } from './faults';
import { faultKey } from './remediation-simulation';

/** Adversarial faults by key (the flag's camelCase, as commander names the option): each a CLI flag, all on in `--adversarial`. */
export type Faults = Record<string, boolean>;

const ALL = [...GENERIC_FAULTS, ...SIMULATIONS.flatMap((s) => s.faults)];

export const FAULT_FLAGS: Record<string, { flag: string; description: string }> = Object.fromEntries(
  ALL.map((f) => [faultKey(f.flag), { flag: f.flag, description: f.description }]),
);

export const ALL_FAULTS: Faults = Object.fromEntries(ALL.map((f) => [faultKey(f.flag), true]));
