/**
 * Ports of `fleetwarden doctor`: the read-only facts its checks (checks.ts) judge, in the shapes the
 * APIs return. Adapters: aws-adapter.ts (Investigator credentials), github-adapter.ts (the App).
 */
export interface DoctorAws {
  /** DescribeStacks' outputs by key; undefined when the stack does not exist in the region. */
  stackOutputs(stackName: string): Promise<Record<string, string> | undefined>;
  /** DescribeAlarms of the stack's metric alarms (name prefix) in ALARM, every page. */
  alarmsInAlarm(stackName: string): Promise<{ MetricAlarms?: { AlarmName?: string; StateValue?: string }[] }>;
  /** GetSecretValue's SecretString; null when the secret does not exist. */
  secretString(secretId: string): Promise<string | null>;
  /** DescribeLifecycleHooks of one group. */
  lifecycleHooks(
    group: string,
  ): Promise<{ LifecycleHooks?: { LifecycleHookName?: string; LifecycleTransition?: string }[] }>;
  /** ApproximateNumberOfMessages of each dead-letter queue named after the stack, by queue name. */
  deadLetterQueues(
    stackName: string,
  ): Promise<Record<string, { Attributes?: { ApproximateNumberOfMessages?: string } }>>;
  /** The newest log stream of the stack's audit-correlate log group ({} when there is no such group). */
  correlatorLogStreams(stackName: string): Promise<{ logStreams?: { lastEventTimestamp?: number }[] }>;
}

export interface GitHubDelivery {
  status_code?: number;
  event?: string;
}

export interface DoctorGitHub {
  /** GET /app/installations/{installation_id} (as the App). */
  installation(): Promise<{
    account?: { login?: string } | null;
    permissions?: Record<string, string | undefined>;
    events?: string[];
    suspended_at?: string | null;
  }>;
  /** GET /app/hook/config (as the App). */
  appHookConfig(): Promise<{ url?: string; content_type?: string }>;
  /** GET /app/hook/deliveries, newest first (as the App). */
  appHookDeliveries(): Promise<GitHubDelivery[]>;
  /**
   * GET /orgs/{org}/hooks, every page (an installation token down-scoped to organization_hooks:
   * read; rejects with GitHub's status, e.g. 403, when the installation may not list them).
   */
  orgHooks(org: string): Promise<OrgHook[]>;
  /** GET /orgs/{org}/hooks/{hook_id}/deliveries, newest first (the same token). */
  orgHookDeliveries(org: string, hookId: number): Promise<GitHubDelivery[]>;
}

/** One organisation webhook as GET /orgs/{org}/hooks lists it. */
export interface OrgHook {
  id?: number;
  active?: boolean;
  events?: string[];
  config?: { url?: string; content_type?: string };
}
