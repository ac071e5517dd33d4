import { SWEEP_STATE_TABLE_ENV } from '../../shared/budget/dynamodb-sweep-state';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';
import { POOL_SETTINGS } from '../../shared/runners/pool';

/**
 * runner-sweep's settings, declared once: the Lambda environment (the construct writes every one
 * but `region`), the simulator's wiring and the docs come from here.
 */
export const settings = {
  auditTable: AUDIT_TABLE_SETTING,
  sweepStateTable: setting.string(SWEEP_STATE_TABLE_ENV, {
    doc: 'The sweep state table: the rolling removal budget (ledger) and first sightings.',
  }),
  fleetTagKey: setting.string('FLEET_TAG_KEY', { doc: "Tag key marking the fleet's runner instances." }),
  fleetTagValue: setting.string('FLEET_TAG_VALUE', {
    doc: "Tag value marking the fleet's runner instances.",
  }),
  fleetId: setting.string('FLEET_ID', {
    doc: "This fleet's id: runners carry `fleetwarden-fleet:<id>`; other fleets' runners are never touched.",
  }),
  gracePeriod: setting.seconds('GRACE_PERIOD_SECONDS', {
    doc: 'After an instance left, wait this long before deregistering its idle runner.',
    default: 300,
    min: 0,
    max: 86_400,
  }),
  bootTimeout: setting.seconds('BOOT_TIMEOUT_SECONDS', {
    doc: 'A fleet instance running this long without a runner is reported (or terminated when allowed).',
    default: 900,
    min: 60,
    max: 86_400,
  }),
  allowTerminate: setting.boolean('ALLOW_TERMINATE', {
    doc: 'Terminate never-registered instances of the configured ASGs (otherwise only report them): the explicit opt-in.',
    default: false,
  }),
  maxRemovalShare: setting.number('MAX_REMOVAL_SHARE', {
    doc: 'Refuse a run removing more than this share of the fleet; also the rolling budget per window.',
    default: 0.2,
    gt: 0,
    max: 1,
  }),
  maxRemovalsPerRun: setting.integer('MAX_REMOVALS_PER_RUN', {
    doc: 'At most this many removals a run; the rest are deferred to the next run.',
    default: 100,
    min: 1,
    max: 1000,
  }),
  budgetWindow: setting.seconds('BUDGET_WINDOW_SECONDS', {
    doc: "The rolling removal budget's window.",
    default: 3600,
    min: 300,
    max: 604_800,
  }),
  region: setting.optional(
    setting.string('AWS_REGION', {
      doc: 'The region swept (set by Lambda itself; never written by the construct): runners labelled with another region are left alone.',
    }),
  ),
  dryRun: setting.boolean('DRY_RUN', { doc: 'Report what would be done; change nothing.', default: true }),
  autoScalingGroupNames: setting.list('AUTO_SCALING_GROUP_NAMES', {
    doc: 'The runner ASGs: their Terminating instances are read in one call, and only their instances may be terminated.',
    default: [],
  }),
  ...POOL_SETTINGS,
};
export type RunnerSweepSettings = SettingsOf<typeof settings>;
