/**
 * `fleetwarden doctor`'s checks: pure functions over the API responses the adapters read (shapes in
 * testing/fixtures.ts). Each says pass or fail, what it saw, and the fix. No check ever puts a
 * secret's value into its result.
 */
export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do about a failure. */
  readonly fix?: string;
}

const pass = (id: string, title: string, detail: string): CheckResult => ({ id, title, ok: true, detail });
const fail = (id: string, title: string, detail: string, fix: string): CheckResult => ({
  id,
  title,
  ok: false,
  detail,
  fix,
});

export type Level = 'read' | 'write' | 'admin';
export interface RequiredPermission {
  permission: string;
  level: Level;
  usedBy: string[];
}

const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 };

/**
 * GitHub App permissions the event subscriptions need (no function calls GitHub for them, so no
 * definition declares them): an App receives workflow_job only with Actions read.
 */
export const EVENT_PERMISSIONS: RequiredPermission[] = [
  { permission: 'actions', level: 'read', usedBy: ['webhook-ingress (workflow_job events)'] },
];

/** Every `github:` permission the definitions' actions declare, highest level kept, sorted. */
export function requiredGitHubPermissions(
  definitions: readonly { name: string; actions: Record<string, { github?: readonly string[] }> }[],
): RequiredPermission[] {
  const byName = new Map<string, RequiredPermission>();
  for (const p of EVENT_PERMISSIONS) byName.set(p.permission, { ...p, usedBy: [...p.usedBy] });
  for (const d of definitions) {
    for (const action of Object.values(d.actions)) {
      for (const declared of action.github ?? []) {
        const [permission = declared, level = 'read'] = declared.split(':');
        const seen = byName.get(permission) ?? { permission, level: level as Level, usedBy: [] };
        if ((RANK[level] ?? 0) > (RANK[seen.level] ?? 0)) seen.level = level as Level;
        if (!seen.usedBy.includes(d.name)) seen.usedBy.push(d.name);
        byName.set(permission, seen);
      }
    }
  }
  return [...byName.values()].sort((a, b) => a.permission.localeCompare(b.permission));
}

const REQUIRED_OUTPUTS = ['AuditTableName', 'InvestigatorRoleArn'];
const GITHUB_OUTPUTS = ['WebhookUrl', 'WebhookSecretName', 'GitHubAppSecretName'];

/** Where the outputs came from: CloudFormation DescribeStacks, or a `cdk deploy --outputs-file` file. */
export type StackOutputsSource =
  | { from: 'cloudformation'; region: string }
  | { from: 'file'; file: string; stacks: readonly string[] };

/** The stack's outputs by key (undefined: no such stack where they were read). */
export function checkStackOutputs(
  outputs: Readonly<Record<string, string>> | undefined,
  stackName: string,
  github: boolean,
  source: StackOutputsSource,
): CheckResult {
  const title = 'stack found and outputs read';
  const fix =
    source.from === 'file'
      ? `deploy with \`cdk deploy ${stackName} --outputs-file ${source.file}\` and pass --outputs ${source.file} --stack-name ${stackName}`
      : `deploy it (\`npx cdk deploy ${stackName}\`), or pass the deployed stack's --stack-name and --region`;
  if (!outputs) {
    const where =
      source.from === 'file'
        ? `${source.file} (found: ${source.stacks.join(', ') || 'none'})`
        : `${source.region} (CloudFormation: Stack with id ${stackName} does not exist)`;
    return fail('stack', title, `no stack "${stackName}" in ${where}`, fix);
  }
  const missing = [...REQUIRED_OUTPUTS, ...(github ? GITHUB_OUTPUTS : [])].filter((k) => !outputs[k]);
  if (missing.length > 0)
    return fail('stack', title, `${stackName} lacks outputs ${missing.join(', ')}`, fix);
  return pass('stack', title, `${stackName}: ${Object.keys(outputs).length} outputs`);
}

function appSecretProblems(secret: string): string[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(secret) as Record<string, unknown>;
  } catch {
    return ['the GitHub App secret is not JSON (still the generated value?)'];
  }
  const problems: string[] = [];
  for (const key of ['appId', 'installationId'] as const) {
    if (!/^\d+$/.test(String(parsed[key] ?? ''))) problems.push(`${key} is not a number`);
  }
  const key = String(parsed.privateKey ?? '');
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/.test(key))
    problems.push('privateKey is not a PEM private key');
  return problems;
}

/** The GitHub App secret holds `{"appId","installationId","privateKey"}`; the webhook secret is set. */
export function checkSecrets(s: { appSecret?: string | null; webhookSecret?: string | null }): CheckResult {
  const title = 'secrets present and well-formed';
  const problems: string[] = [];
  if (s.appSecret === null) problems.push('the GitHub App secret was not found');
  else if (s.appSecret !== undefined) problems.push(...appSecretProblems(s.appSecret));
  if (s.webhookSecret === null) problems.push('the webhook secret was not found');
  else if (s.webhookSecret !== undefined && s.webhookSecret.length < 16)
    problems.push('the webhook secret is shorter than 16 characters');
  if (problems.length === 0) return pass('secrets', title, 'values not shown');
  return fail(
    'secrets',
    title,
    `${problems.join('; ')} (values not shown)`,
    'aws secretsmanager put-secret-value --secret-id <GitHubAppSecretName> --secret-string file://app.json (docs/github-app.md)',
  );
}

interface Installation {
  account?: { login?: string } | null;
  permissions?: Record<string, string | undefined>;
  suspended_at?: string | null;
}

/**
 * The App installation grants every permission a function declares, at least at its level. `host`:
 * the GitHub asked (a GHES pool's server is named in the detail and the fix).
 */
export function checkInstallation(
  installation: Installation,
  required: readonly RequiredPermission[],
  owner: string,
  host = 'github.com',
): CheckResult {
  const on = host === 'github.com' ? '' : ` on ${host}`;
  const title = 'GitHub App installation reachable with the permissions the functions need';
  const problems: string[] = [];
  const login = installation.account?.login;
  if (login && login.toLowerCase() !== owner.toLowerCase())
    problems.push(`installed on ${login}, the fleet's owner is ${owner}`);
  if (installation.suspended_at) problems.push(`suspended since ${installation.suspended_at}`);
  for (const r of required) {
    const granted = installation.permissions?.[r.permission];
    if ((RANK[granted ?? ''] ?? 0) >= (RANK[r.level] ?? 0)) continue;
    problems.push(
      `${r.permission}: ${r.level} needed (${r.usedBy.join(', ')}), ${granted ?? 'nothing'} granted`,
    );
  }
  if (problems.length === 0)
    return pass('github-app', title, `${required.length} permissions granted to ${login ?? owner}${on}`);
  const hints = required
    .filter((r) => (RANK[installation.permissions?.[r.permission] ?? ''] ?? 0) < (RANK[r.level] ?? 0))
    .flatMap((r) => PERMISSION_HINTS[r.permission] ?? []);
  return fail(
    'github-app',
    title,
    `${problems.join('; ')}${on}`,
    `in the App's settings${on} > Permissions, grant them (docs/github-app.md)${hints.map((h) => `; ${h}`).join('')}, then accept the new permissions on the installation`,
  );
}

/** Where a permission is granted in the App's settings, and what breaks without it. */
const PERMISSION_HINTS: Record<string, string> = {
  // GitHub docs, "Webhook events and payloads" > workflow_job: "To subscribe to this event, a GitHub
  // App must have at least read-level access for the 'Actions' repository permission."
  actions: 'Repository permissions > Actions: Read-only (no workflow_job event reaches the fleet without it)',
};

/**
 * Why the organisation's webhooks cannot be listed with the installation's token, if they cannot:
 * GET /orgs/{org}/hooks needs the "Webhooks" organization permission (read), `organization_hooks`.
 */
export function orgHooksUnreadable(installation: Installation): string | undefined {
  const granted = installation.permissions?.organization_hooks;
  return (RANK[granted ?? ''] ?? 0) >= 1 ? undefined : 'the App lacks organization_hooks: read';
}

export interface WebhookTarget {
  source: 'app' | 'org';
  /** The organisation webhook's id (its deliveries: GET /orgs/{org}/hooks/{id}/deliveries). */
  id?: number;
  url: string;
  contentType: string;
  events: readonly string[];
  active: boolean;
}

/** GET /app/hook/config plus the App's subscribed events. */
export function webhookTargetsFromApp(
  config: { url?: string; content_type?: string },
  events: readonly string[],
): WebhookTarget[] {
  if (!config.url) return [];
  return [
    { source: 'app', url: config.url, contentType: config.content_type ?? 'form', events, active: true },
  ];
}

/** GET /orgs/{org}/hooks. */
export function webhookTargetsFromOrg(
  hooks: readonly {
    id?: number;
    active?: boolean;
    events?: string[];
    config?: { url?: string; content_type?: string };
  }[],
): WebhookTarget[] {
  return hooks.map((h) => ({
    source: 'org',
    ...(h.id === undefined ? {} : { id: h.id }),
    url: h.config?.url ?? '',
    contentType: h.config?.content_type ?? 'form',
    events: h.events ?? [],
    active: h.active ?? false,
  }));
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** The webhook that points at the Function URL: one sending workflow_job if several do, the App's first. */
export function webhookPointingAt(
  targets: readonly WebhookTarget[],
  functionUrl: string,
): WebhookTarget | undefined {
  const there = targets.filter((t) => sameUrl(t.url, functionUrl));
  return there.find((t) => t.active && t.events.includes('workflow_job')) ?? there[0];
}

const labelOf = (t: WebhookTarget) =>
  t.source === 'app' ? 'app webhook' : `org webhook ${t.id ?? ''}`.trim();

/** Whether the organisation's webhooks were read (GET /orgs/{org}/hooks), and why not. */
export type OrgHooksRead = { read: true } | { read: false; why: string };

/** What is wrong with the webhook found: content type, event, active, duplicates, failed deliveries. */
function webhookProblems(
  target: WebhookTarget,
  targets: readonly WebhookTarget[],
  deliveries: readonly { status_code?: number }[],
  functionUrl: string,
): string[] {
  const problems: string[] = [];
  if (target.contentType !== 'json') problems.push(`content type ${target.contentType}, not json`);
  if (!target.events.includes('workflow_job')) problems.push('the workflow_job event is not subscribed');
  if (!target.active) problems.push('the webhook is not active');
  const sending = targets.filter(
    (t) => sameUrl(t.url, functionUrl) && t.active && t.events.includes('workflow_job'),
  );
  if (sending.length > 1) {
    const names = sending.map((t) => (t.source === 'app' ? 'the App webhook' : labelOf(t)));
    problems.push(
      `${names.join(' and ')} both send workflow_job to the Function URL (every job is delivered twice)`,
    );
  }
  const failed = deliveries.filter((d) => !(d.status_code && d.status_code >= 200 && d.status_code < 300));
  if (failed.length > 0) {
    const codes = [...new Set(failed.map((d) => d.status_code ?? 'no response'))].join(', ');
    problems.push(`${failed.length} of the last ${deliveries.length} deliveries failed (${codes})`);
  }
  return problems;
}

/**
 * A webhook (the App's, or an organisation's) sends workflow_job as JSON to the Function URL, only
 * one does, and its last deliveries (of that webhook: `deliveries`) succeeded.
 */
export function checkWebhook(facts: {
  targets: readonly WebhookTarget[];
  deliveries: readonly { status_code?: number; event?: string }[];
  functionUrl: string;
  orgHooks?: OrgHooksRead;
}): CheckResult {
  const title = 'webhook points at the Function URL (JSON, workflow_job) and its deliveries succeed';
  const fix = `set the App's (or the organisation's) webhook URL to ${facts.functionUrl}, content type application/json, event "Workflow jobs" (docs/github-app.md)`;
  const unread =
    facts.orgHooks?.read === false ? `organisation webhooks not read (${facts.orgHooks.why})` : '';
  const target = webhookPointingAt(facts.targets, facts.functionUrl);
  if (!target) {
    if (!unread) return fail('webhook', title, `no webhook points at ${facts.functionUrl}`, fix);
    const detail = `the App webhook does not point at ${facts.functionUrl}; ${unread}`;
    const orgFix = `${fix}; to let the doctor check an organisation webhook, grant the App organization_hooks: read`;
    return fail('webhook', title, detail, orgFix);
  }
  const last = facts.deliveries.slice(0, 10);
  const problems = webhookProblems(target, facts.targets, last, facts.functionUrl);
  if (problems.length > 0) return fail('webhook', title, `${labelOf(target)}: ${problems.join('; ')}`, fix);
  const seen = last.length === 0 ? 'no deliveries yet' : `last ${last.length} deliveries succeeded`;
  return pass('webhook', title, `${labelOf(target)}, ${seen}${unread ? `; ${unread}` : ''}`);
}

/** Each configured group has the fleet's terminate lifecycle hook (DescribeLifecycleHooks per group). */
export function checkLifecycleHooks(
  byGroup: Record<
    string,
    { LifecycleHooks?: { LifecycleHookName?: string; LifecycleTransition?: string }[] }
  >,
  hookName: string,
): CheckResult {
  const title = "each configured Auto Scaling group has the fleet's lifecycle hook";
  const without = Object.entries(byGroup)
    .filter(
      ([, out]) =>
        !(out.LifecycleHooks ?? []).some(
          (h) =>
            h.LifecycleHookName === hookName &&
            h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING',
        ),
    )
    .map(([group]) => group);
  if (without.length === 0)
    return pass('lifecycle-hooks', title, `${Object.keys(byGroup).length} groups have ${hookName}`);
  return fail(
    'lifecycle-hooks',
    title,
    `no terminate hook ${hookName} on ${without.join(', ')}`,
    'redeploy the stack with these groups in autoScalingGroupNames (a group created after the deploy has no hook)',
  );
}

/** Every dead-letter queue is empty (GetQueueAttributes ApproximateNumberOfMessages per queue). */
export function checkDeadLetterQueues(
  byQueue: Record<string, { Attributes?: { ApproximateNumberOfMessages?: string } }>,
): CheckResult {
  const title = 'dead-letter queues empty';
  const holding = Object.entries(byQueue)
    .map(([name, out]) => [name, Number(out.Attributes?.ApproximateNumberOfMessages ?? 0)] as const)
    .filter(([, n]) => n > 0);
  if (holding.length === 0) return pass('dlq', title, `${Object.keys(byQueue).length} queues empty`);
  return fail(
    'dlq',
    title,
    holding.map(([name, n]) => `${name}: ${n}`).join(', '),
    'read the messages and the runbook of the queue (docs/runbooks.md); fix the cause, then redrive them',
  );
}

/** No alarm of the fleet is in ALARM (DescribeAlarms). */
export function checkAlarms(out: {
  MetricAlarms?: { AlarmName?: string; StateValue?: string }[];
}): CheckResult {
  const title = 'alarms not in ALARM';
  const firing = (out.MetricAlarms ?? []).filter((a) => a.StateValue === 'ALARM').map((a) => a.AlarmName);
  if (firing.length === 0) return pass('alarms', title, 'none in ALARM');
  return fail(
    'alarms',
    title,
    `in ALARM: ${firing.join(', ')}`,
    "follow each alarm's runbook link (docs/runbooks.md)",
  );
}

/** audit-correlate logged within `maxAgeMinutes` (DescribeLogStreams, newest stream first). */
export function checkCorrelatorRan(
  out: { logStreams?: { lastEventTimestamp?: number }[] },
  now: Date,
  maxAgeMinutes: number,
): CheckResult {
  const title = 'the correlator ran recently';
  const fix =
    "check the CorrelateSchedule rule is enabled and the Correlate function's errors alarm (docs/runbooks.md)";
  const last = out.logStreams?.[0]?.lastEventTimestamp;
  if (last === undefined) return fail('correlator', title, 'audit-correlate never ran (no log stream)', fix);
  const minutes = Math.round((now.getTime() - last) / 60_000);
  if (minutes > maxAgeMinutes)
    return fail('correlator', title, `last ran ${minutes} min ago (expected within ${maxAgeMinutes})`, fix);
  return pass('correlator', title, `last ran ${minutes} min ago`);
}
