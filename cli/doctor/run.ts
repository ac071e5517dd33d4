import type { Command } from 'commander';
import { LIFECYCLE_HOOK_NAME } from '../../shared/autoscaling/lifecycle-hook-name';
import { ConfigError } from '../../shared/core/errors';
import {
  type CheckResult,
  checkAlarms,
  checkCorrelatorRan,
  checkDeadLetterQueues,
  checkInstallation,
  checkLifecycleHooks,
  checkSecrets,
  checkStackOutputs,
  checkWebhook,
  type OrgHooksRead,
  orgHooksUnreadable,
  requiredGitHubPermissions,
  type WebhookTarget,
  webhookPointingAt,
  webhookTargetsFromApp,
  webhookTargetsFromOrg,
} from '../../shared/doctor/checks';
import type { AppCredentials } from '../../shared/doctor/github-adapter';
import type { DoctorAws, DoctorGitHub } from '../../shared/doctor/port';
import { apiHostOf } from '../../shared/github/scope';
import { regionFrom } from '../commands/options';
import type { CliDeps } from '../deps';
import { EXIT } from '../errors';
import { setExitCode } from '../program';
import { type DoctorPorts, defaultPorts } from './ports';

export interface DoctorOptions {
  outputs?: string;
  stackName: string;
  region?: string;
  asg?: string[];
  owner?: string;
  githubApiUrl?: string;
  correlatorMinutes: string;
  json?: boolean;
}

/** A check whose reads failed: failed, with what went wrong (the fix: the Investigator role). */
async function guarded(id: string, title: string, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (err) {
    const e = err as Error;
    return {
      id,
      title,
      ok: false,
      detail: `could not read: ${e.name}: ${e.message}`,
      fix:
        id === 'secrets'
          ? 'run with credentials that may read the two secrets (your own, not the Investigator role: the GitHub App key can act on GitHub, so read-only credentials never hold it), in the stack region'
          : 'run with the Investigator role (stack output InvestigatorRoleArn) in the stack region',
    };
  }
}

function credentialsOf(appSecret: string | null): AppCredentials | undefined {
  try {
    const c = JSON.parse(appSecret ?? '') as Partial<AppCredentials>;
    return c.appId && c.installationId && c.privateKey ? (c as AppCredentials) : undefined;
  } catch {
    return undefined;
  }
}

async function githubChecks(
  github: DoctorGitHub,
  owner: string | undefined,
  functionUrl: string,
  apiUrl: string | undefined,
): Promise<CheckResult[]> {
  const host = apiUrl ? apiHostOf(apiUrl) : 'github.com';
  // the registry (every handler, and the Powertools logger) loads on first use, not at CLI startup
  const { REMEDIATIONS } = await import('../../functions/registry');
  const required = requiredGitHubPermissions(REMEDIATIONS);
  let inst: Awaited<ReturnType<DoctorGitHub['installation']>> | undefined;
  const installation = await guarded('github-app', 'GitHub App installation reachable', async () => {
    inst = await github.installation();
    return checkInstallation(inst, required, owner ?? inst.account?.login ?? '', host);
  });
  const webhook = await guarded('webhook', 'webhook points at the Function URL', async () => {
    const app = webhookTargetsFromApp(await github.appHookConfig(), inst?.events ?? []);
    const org = await orgTargets(github, inst, owner);
    const targets = [...app, ...org.targets];
    const target = webhookPointingAt(targets, functionUrl);
    const deliveries =
      target?.source === 'org' && target.id !== undefined && org.login
        ? await github.orgHookDeliveries(org.login, target.id)
        : target
          ? await github.appHookDeliveries()
          : [];
    return checkWebhook({ targets, deliveries, functionUrl, orgHooks: org.read });
  });
  return [installation, webhook];
}

/**
 * The organisation's webhooks, when the installation may list them (organization_hooks: read); else,
 * or when GitHub refuses, why they were not read (the webhook check says so).
 */
async function orgTargets(
  github: DoctorGitHub,
  inst: Awaited<ReturnType<DoctorGitHub['installation']>> | undefined,
  owner: string | undefined,
): Promise<{ targets: WebhookTarget[]; read: OrgHooksRead; login?: string }> {
  const login = owner ?? inst?.account?.login ?? undefined;
  if (!inst || !login) return { targets: [], read: { read: false, why: 'the installation was not read' } };
  const why = orgHooksUnreadable(inst);
  if (why) return { targets: [], read: { read: false, why } };
  try {
    return { targets: webhookTargetsFromOrg(await github.orgHooks(login)), read: { read: true }, login };
  } catch (err) {
    const e = err as Error & { status?: number };
    const answer = e.status ? `GitHub answered ${e.status}: ${e.message}` : `${e.name}: ${e.message}`;
    return { targets: [], read: { read: false, why: answer } };
  }
}

async function awsChecks(aws: DoctorAws, opts: DoctorOptions, now: Date): Promise<CheckResult[]> {
  const groups = opts.asg ?? [];
  const checks: CheckResult[] = [];
  if (groups.length > 0)
    checks.push(
      await guarded('lifecycle-hooks', "Auto Scaling groups have the fleet's lifecycle hook", async () => {
        const byGroup = Object.fromEntries(
          await Promise.all(groups.map(async (g) => [g, await aws.lifecycleHooks(g)])),
        );
        return checkLifecycleHooks(byGroup, LIFECYCLE_HOOK_NAME);
      }),
    );
  checks.push(
    await guarded('dlq', 'dead-letter queues empty', async () =>
      checkDeadLetterQueues(await aws.deadLetterQueues(opts.stackName)),
    ),
    await guarded('alarms', 'alarms not in ALARM', async () =>
      checkAlarms(await aws.alarmsInAlarm(opts.stackName)),
    ),
    await guarded('correlator', 'the correlator ran recently', async () =>
      checkCorrelatorRan(await aws.correlatorLogStreams(opts.stackName), now, Number(opts.correlatorMinutes)),
    ),
  );
  return checks;
}

/** `cdk deploy --outputs-file` JSON: stack name -> output key -> value. */
async function outputsFile(deps: CliDeps, file: string): Promise<Record<string, Record<string, string>>> {
  try {
    return JSON.parse(await deps.readFile(file)) as Record<string, Record<string, string>>;
  } catch (err) {
    throw new ConfigError(`cannot read --outputs ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The stack's outputs from --outputs when given, else from CloudFormation (DescribeStacks). */
async function stackCheck(
  opts: DoctorOptions,
  deps: CliDeps,
  aws: DoctorAws,
  region: string,
): Promise<{ check: CheckResult; outputs: Record<string, string> }> {
  const { stackName } = opts;
  if (opts.outputs) {
    const file = await outputsFile(deps, opts.outputs);
    const outputs = file[stackName];
    const source = { from: 'file', file: opts.outputs, stacks: Object.keys(file) } as const;
    return {
      check: checkStackOutputs(outputs, stackName, Boolean(outputs?.WebhookUrl), source),
      outputs: outputs ?? {},
    };
  }
  let outputs: Record<string, string> | undefined;
  const check = await guarded('stack', 'stack found and outputs read', async () => {
    outputs = await aws.stackOutputs(stackName);
    const source = { from: 'cloudformation', region } as const;
    return checkStackOutputs(outputs, stackName, Boolean(outputs?.WebhookUrl), source);
  });
  return { check, outputs: outputs ?? {} };
}

/** Every check, in order: outputs, secrets, GitHub (with the App's own key), then the AWS side. */
async function runChecks(
  opts: DoctorOptions,
  deps: CliDeps,
  ports: DoctorPorts,
  region: string,
): Promise<CheckResult[]> {
  const { check, outputs } = await stackCheck(opts, deps, ports.aws, region);
  const checks = [check];
  let appSecret: string | null = null;
  if (outputs.GitHubAppSecretName) {
    checks.push(
      await guarded('secrets', 'secrets present and well-formed', async () => {
        appSecret = await ports.aws.secretString(outputs.GitHubAppSecretName as string);
        const webhookSecret = outputs.WebhookSecretName
          ? await ports.aws.secretString(outputs.WebhookSecretName)
          : undefined;
        return checkSecrets({ appSecret, webhookSecret });
      }),
    );
    const credentials = credentialsOf(appSecret);
    if (credentials && outputs.WebhookUrl)
      checks.push(
        ...(await githubChecks(
          ports.github(credentials, opts.githubApiUrl),
          opts.owner,
          outputs.WebhookUrl,
          opts.githubApiUrl,
        )),
      );
  }
  checks.push(...(await awsChecks(ports.aws, opts, new Date(deps.clock.now()))));
  return checks;
}

function render(checks: readonly CheckResult[]): string {
  const lines = checks.flatMap((c) => [
    `${c.ok ? 'ok  ' : 'FAIL'} ${c.title}: ${c.detail}`,
    ...(c.ok || !c.fix ? [] : [`     fix: ${c.fix}`]),
  ]);
  const failed = checks.filter((c) => !c.ok).length;
  return `${lines.join('\n')}\n${failed === 0 ? 'all checks passed' : `${failed} of ${checks.length} checks failed`}\n`;
}

/** `fleetwarden doctor`: every check, printed (or JSON); exit 1 when one fails. */
export async function doctor(
  opts: DoctorOptions,
  cmd: Command,
  deps: CliDeps,
  makePorts: (region: string) => DoctorPorts = defaultPorts,
): Promise<void> {
  const region = regionFrom(opts.region, deps);
  const checks = await runChecks(opts, deps, makePorts(region), region);
  const ok = checks.every((c) => c.ok);
  deps.stdout.write(opts.json ? `${JSON.stringify({ ok, checks }, null, 2)}\n` : render(checks));
  if (!ok) setExitCode(cmd, EXIT.failure);
}
