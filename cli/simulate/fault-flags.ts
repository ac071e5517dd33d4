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
  githubDeleteErrors: true,
};
