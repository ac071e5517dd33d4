/**
 * Every remediation's simulation (functions/<name>/simulation.ts): its faults (the CLI's fault
 * flags are derived from this list), watches, injected errors and invariants.
 *
 * The order is the run's: faults install in it (a later fault wraps the ports an earlier one
 * wrapped) and lay their events out in it (events at the same simulated time run in it), after
 * the cross-cutting faults of cli/simulate/faults.ts. Seeded runs depend on it: reordering changes
 * a run (a new simulation goes at the end).
 */
import type { RemediationSimulation } from '../cli/simulate/remediation-simulation';
import { simulation as dnsReconcile } from './dns-reconcile/simulation';
import { simulation as dnsSync } from './dns-sync/simulation';
import { simulation as runnerDrain } from './runner-drain/simulation';
import { simulation as runnerSweep } from './runner-sweep/simulation';
import { simulation as webhookIngress } from './webhook-ingress/simulation';

export const SIMULATIONS: readonly RemediationSimulation[] = [
  runnerDrain,
  runnerSweep,
  dnsSync,
  webhookIngress,
  dnsReconcile,
];
