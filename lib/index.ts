/**
 * fleetwarden's public API, the package's entry (`import { Fleetwarden } from 'fleetwarden'`):
 * the `Fleetwarden` construct with its props, the feature constructs for those who compose their
 * own, the config schema and the guardrails. Everything else in the repository is internal.
 */
export { REMEDIATIONS } from '../functions/registry';
export {
  EXAMPLE_HOSTED_ZONE_ID,
  type FleetConfig,
  FleetConfigSchema,
  parseFleetConfig,
  refuseExampleConfig,
} from '../infra/config';
export { AuditTrail, type AuditTrailProps } from '../infra/constructs/audit-trail';
export { DnsSync, type DnsSyncProps } from '../infra/constructs/dns-sync';
export {
  FleetwardenDnsRole,
  type FleetwardenDnsRoleProps,
  type FleetwardenDnsRoleZone,
} from '../infra/constructs/dns-zone-role';
export { FleetDashboard, type FleetDashboardProps } from '../infra/constructs/fleet-dashboard';
export { FleetFunction, type FleetFunctionProps } from '../infra/constructs/fleet-function';
export { fleetKey } from '../infra/constructs/fleet-key';
export { Fleetwarden, TRIGGER_PATTERNS } from '../infra/constructs/fleetwarden';
export type {
  FleetConfigInput,
  FleetwardenGitHubProps,
  FleetwardenPoolProps,
  FleetwardenProps,
  FleetwardenZone,
} from '../infra/constructs/fleetwarden-props';
export {
  RemediationFunction,
  type RemediationFunctionProps,
} from '../infra/constructs/remediation-function';
export { RunnerRemediation, type RunnerRemediationProps } from '../infra/constructs/runner-remediation';
export {
  FleetwardenSpoke,
  type FleetwardenSpokeProps,
  FleetwardenSpokeStack,
  type FleetwardenSpokeStackProps,
} from '../infra/constructs/spoke';
export {
  type DeployedRemediation,
  spokeForwardPatterns,
  spokeGrants,
} from '../infra/constructs/spoke-permissions';
export {
  WebhookIngress,
  type WebhookIngressPool,
  type WebhookIngressProps,
} from '../infra/constructs/webhook-ingress';
export { applyGuardrails } from '../infra/guardrails/guardrails';
export { ConfigError, FleetwardenError } from '../shared/core/errors';
