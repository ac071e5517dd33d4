/**
 * dns-reconcile in the simulator: no fault or invariant of its own (the DNS invariants are the
 * report's; simulation.test.ts breaks its evidence check and they fail on a run with lost events).
 */
import type { RemediationSimulation } from '../../cli/simulate/remediation-simulation';

export const simulation: RemediationSimulation = {
  function: 'dns-reconcile',
  faults: [],
  // Route 53 throttling
  injectError: (e) => e.world.route53.failNext('Throttling'),
  invariants: () => [],
};
