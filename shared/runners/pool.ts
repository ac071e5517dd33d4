import type { AuditSink } from '../audit/port';
import { setting } from '../kernel/settings';

/**
 * Runner pools (README "Several runner pools"): one fleet may run several pools, each with its
 * GitHub scope, Auto Scaling groups, fleet tag and labels; drain, sweep and job-watch run once per
 * pool. The shorthand configuration is the pool `default`.
 */
export const DEFAULT_POOL = 'default';

/** A pool's name: construct ids, the job-watch rule's `detail.pool`, audit details. */
export const POOL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** A runner label a pool requires (carried to functions in a comma-separated list: no comma). */
export const POOL_LABEL_PATTERN = /^[^,\s](?:[^,]{0,98}[^,\s])?$/;

/**
 * True when the runner carries every label of the pool (a pool without labels takes any runner its
 * other rules allow): a runner missing one is another pool's, never touched.
 */
export function carriesPoolLabels(runner: { labels: readonly string[] }, labels: readonly string[]): boolean {
  return labels.every((l) => runner.labels.includes(l));
}

/** Audit details naming the pool of a function (absent for the shorthand's, whose records are today's). */
export const poolDetails = (pool: string | undefined): { pool?: string } => (pool ? { pool } : {});

/**
 * The settings every runner function of a pool reads (the construct writes them only for a pool of
 * the `pools` list: the shorthand's functions keep today's environment). GITHUB_API_URL and
 * GITHUB_ENTERPRISE are slots the GitHub adapter (shared/github) reads: the pool's GHES REST base and
 * its enterprise scope.
 */
export const POOL_SETTINGS = {
  poolName: setting.optional(
    setting.string('POOL_NAME', {
      doc: 'The runner pool this function serves (its audit records name it); unset: the pool `default` of the shorthand configuration.',
      pattern: POOL_NAME_PATTERN,
      bounds: '[a-z][a-z0-9-]{0,19}',
    }),
  ),
  runnerLabels: setting.optional(
    setting.list('RUNNER_LABELS', {
      doc: "The pool's labels: a runner without every one of them (besides the fleet label) is another pool's and is never touched.",
      pattern: POOL_LABEL_PATTERN,
      bounds: 'runner labels, no comma',
    }),
  ),
  githubApiUrl: setting.optional(
    setting.string('GITHUB_API_URL', {
      doc: "The pool's GitHub REST base (GitHub Enterprise Server, e.g. https://ghe.example.com/api/v3); unset: https://api.github.com.",
      pattern: /^https:\/\/\S+$/,
      bounds: 'an https URL',
    }),
  ),
  githubEnterprise: setting.optional(
    setting.string('GITHUB_ENTERPRISE', {
      doc: "The enterprise whose enterprise-level runners the pool manages (instead of GITHUB_OWNER's).",
    }),
  ),
};

/**
 * The audit sink of a pool's function: every record it writes names the pool (`details.pool`), so
 * the timeline tells pools apart. No pool (the shorthand's): the sink itself, records as today.
 */
export function poolAudit<S extends AuditSink>(sink: S, pool: string | undefined): AuditSink {
  if (!pool) return sink;
  return { write: (record) => sink.write({ ...record, details: { ...record.details, pool } }) };
}
