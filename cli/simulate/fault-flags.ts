/**
 * The adversarial faults and their flags, apart from the engine: the CLI reads these before it
 * loads the handlers (their loggers read the environment when first imported).
 */

/** Adversarial faults: each a CLI flag (--<flag>), all on in `--adversarial`. */
export interface Faults {
  /** Well-formed but lying messages sent straight into the DNS and drain queues. */
  forgedMessages: boolean;
  /** Another team's terminate lifecycle hook on the runner ASG, with its own events (also on the drain queue). */
  foreignHooks: boolean;
  /** Instances outside the configured ASGs that carry the fleet tag. */
  spoofedTags: boolean;
  /** A bounded window in which every audit write fails. */
  auditOutage: boolean;
  /** DescribeInstances misreports live runner instances as terminated or gone, run after run. */
  ec2Flapping: boolean;
  /** Captured webhook bodies delivered again under new delivery ids. */
  webhookReplays: boolean;
  /** Every other webhook delivery form-encoded (payload=..., signature over the raw form body). */
  formEncoded: boolean;
  /** Another fleet's idle offline runners, labelled for instances of this fleet that left. */
  foreignFleetRunners: boolean;
  /** A web host stopped for a while; meanwhile another instance is launched with its name tag. */
  nameClaimants: boolean;
  /** A captured workflow_job body never delivered, sent later than the maximum job age. */
  staleReplays: boolean;
  /** Some runner scale-ins go to the warm pool: the instance stops and comes back with its runner. */
  warmPoolScaleIn: boolean;
  /** GitHub answers runner-drain's runner DELETE 5xx for a while, for every other scale-in. */
  githubDeleteErrors: boolean;
}

export const FAULT_FLAGS: Record<keyof Faults, { flag: string; description: string }> = {
  forgedMessages: {
    flag: 'forged-messages',
    description:
      'send well-formed but lying messages (future-dated terminated and running, wrong state, foreign ASG) to the DNS and drain queues',
  },
  foreignHooks: {
    flag: 'foreign-hooks',
    description:
      "give the runner ASG another team's terminate lifecycle hook, with its own events (also sent to the drain queue)",
  },
  spoofedTags: {
    flag: 'spoofed-tags',
    description:
      'launch instances outside the configured ASGs that carry the fleet tag (terminations allowed)',
  },
  auditOutage: { flag: 'audit-outage', description: 'fail every audit write for two minutes' },
  ec2Flapping: {
    flag: 'ec2-flapping',
    description:
      'DescribeInstances misreports a live runner instance as terminated, and another (online) as stopped, run after run',
  },
  webhookReplays: {
    flag: 'webhook-replays',
    description: 'replay captured webhook bodies under new delivery ids',
  },
  formEncoded: {
    flag: 'form-encoded',
    description: 'send every other webhook delivery as application/x-www-form-urlencoded',
  },
  foreignFleetRunners: {
    flag: 'foreign-fleet-runners',
    description:
      "register another fleet's idle offline runners (another fleetwarden-fleet: id) labelled for this fleet's instances that left",
  },
  nameClaimants: {
    flag: 'name-claimants',
    description:
      'stop a named web host for a while and, while it is stopped, launch a second instance with its name tag',
  },
  staleReplays: {
    flag: 'stale-replays',
    description:
      'capture a workflow_job body whose delivery never arrived and send it later than the maximum job age',
  },
  warmPoolScaleIn: {
    flag: 'warm-pool-scale-in',
    description:
      'send every other runner scale-in to the warm pool (Warmed:Pending:Wait; the instance stops, then comes back with its runner)',
  },
  githubDeleteErrors: {
    flag: 'github-delete-errors',
    description:
      "answer runner-drain's runner DELETE with HTTP 502 for the first two heartbeat timeouts of every other scale-in",
  },
};

export const ALL_FAULTS: Faults = {
  forgedMessages: true,
  foreignHooks: true,
  spoofedTags: true,
  auditOutage: true,
  ec2Flapping: true,
  webhookReplays: true,
  formEncoded: true,
  foreignFleetRunners: true,
  nameClaimants: true,
  staleReplays: true,
  warmPoolScaleIn: true,
  githubDeleteErrors: true,
};
