import { describe, expect, it } from 'vitest';
import type { DoctorAws, DoctorGitHub } from '../../shared/doctor/port';
import * as f from '../../shared/doctor/testing/fixtures';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import { doctorCommand } from './doctor';

const healthyAws = (): DoctorAws => ({
  stackOutputs: async (name) => (name === 'Fleetwarden' ? f.cdkOutputs.Fleetwarden : undefined),
  alarmsInAlarm: async () => ({ MetricAlarms: [] }),
  secretString: async (id) =>
    id === 'GitHubAppSecret-def456' ? f.appSecretString : 'a-long-generated-webhook-secret',
  lifecycleHooks: async () => f.lifecycleHooks,
  deadLetterQueues: async () => ({ 'Fleetwarden-DnsDeadLetterQueue-B': f.emptyQueueAttributes }),
  correlatorLogStreams: async () => f.correlatorLogStreams,
});
const healthyGitHub = (): DoctorGitHub => ({
  installation: async () => f.installation,
  appHookConfig: async () => f.appHookConfig,
  appHookDeliveries: async () => f.deliveries,
  orgHooks: async () => f.orgHooks,
  orgHookDeliveries: async () => f.orgHookDeliveries,
});
/** An App with no webhook of its own and organization_hooks: read; the organisation's webhook delivers. */
const orgWebhookGitHub = (): DoctorGitHub => ({
  ...healthyGitHub(),
  installation: async () => ({
    ...f.installation,
    permissions: { ...f.installation.permissions, organization_hooks: 'read' },
  }),
  appHookConfig: async () => ({ content_type: 'json' }),
  appHookDeliveries: async () => [],
});

const apiUrls: Array<string | undefined> = [];
async function doctor(aws: DoctorAws, github: DoctorGitHub, ...args: string[]) {
  const t = testDeps('2026-11-30T09:10:00Z');
  t.files.set('outputs.json', JSON.stringify(f.cdkOutputs));
  const command = doctorCommand(() => ({
    aws,
    github: (_credentials, apiUrl) => {
      apiUrls.push(apiUrl);
      return github;
    },
  }));
  const argv = ['node', 'fleetwarden', 'doctor', '--region', 'eu-west-1', '--asg', 'ci-runners', ...args];
  const code = await runCli(argv, t.deps, [command]);
  return { code, out: t.stdout(), err: t.stderr() };
}

describe('fleetwarden doctor', () => {
  it('passes every check of a healthy deployment and exits 0', async () => {
    const { code, out } = await doctor(healthyAws(), healthyGitHub());
    expect(out).toMatch(/ok +stack found and outputs read/);
    expect(out).toMatch(/ok +GitHub App installation reachable/);
    expect(out).toMatch(/ok +alarms not in ALARM/);
    expect(out).not.toMatch(/FAIL/);
    expect(code).toBe(EXIT.ok);
  });

  it('checks a GHES pool at its API URL (--github-api-url), naming the host', async () => {
    apiUrls.length = 0;
    const { code, out } = await doctor(
      healthyAws(),
      healthyGitHub(),
      '--github-api-url',
      'https://ghe.example.com/api/v3',
    );
    expect(apiUrls).toEqual(['https://ghe.example.com/api/v3']);
    expect(out).toMatch(/ok +GitHub App installation reachable.*on ghe\.example\.com/);
    expect(code).toBe(EXIT.ok);
  });

  it("reads the stack's outputs from CloudFormation by --stack-name, or from an --outputs file", async () => {
    const read: string[] = [];
    const aws = {
      ...healthyAws(),
      stackOutputs: async (n: string) => {
        read.push(n);
        return f.cdkOutputs.Fleetwarden;
      },
    };
    expect((await doctor(aws, healthyGitHub(), '--stack-name', 'Fleetwarden')).code).toBe(EXIT.ok);
    expect(read).toEqual(['Fleetwarden']);
    const fromFile = await doctor(aws, healthyGitHub(), '--outputs', 'outputs.json');
    expect(fromFile.out).toMatch(/ok +stack found and outputs read/);
    expect(fromFile.code).toBe(EXIT.ok);
    expect(read).toEqual(['Fleetwarden']);
  });

  it('fails "stack found and outputs read" with its fix when CloudFormation has no such stack', async () => {
    const { code, out } = await doctor(healthyAws(), healthyGitHub(), '--stack-name', 'Other');
    expect(out).toMatch(/FAIL stack found and outputs read: no stack "Other" in eu-west-1/);
    expect(out).toMatch(
      /fix: deploy it \(`npx cdk deploy Other`\), or pass the deployed stack's --stack-name and --region/,
    );
    expect(code).toBe(EXIT.failure);
  });

  it('fails "alarms not in ALARM" naming the stack\'s firing alarms', async () => {
    const asked: string[] = [];
    const aws = {
      ...healthyAws(),
      alarmsInAlarm: async (n: string) => {
        asked.push(n);
        return f.firingAlarm;
      },
    };
    const { code, out } = await doctor(aws, healthyGitHub());
    expect(out).toMatch(/FAIL alarms not in ALARM: in ALARM: Fleetwarden-DnsSyncErrors-ABC/);
    expect(asked).toEqual(['Fleetwarden']);
    expect(code).toBe(EXIT.failure);
  });

  it('exits 1 on a failed check, printing the fix and never the secret', async () => {
    const aws = { ...healthyAws(), secretString: async () => f.generatedSecretString };
    const { code, out } = await doctor(aws, healthyGitHub());
    expect(out).toMatch(/FAIL secrets present and well-formed/);
    expect(out).toMatch(/fix: aws secretsmanager put-secret-value/);
    expect(out).not.toContain(f.generatedSecretString);
    expect(code).toBe(EXIT.failure);
  });

  it('reports a check whose read failed as failed (the error and the role to use), and goes on', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: sqs:ListQueues'), {
      name: 'AccessDenied',
    });
    const aws = { ...healthyAws(), deadLetterQueues: async () => Promise.reject(denied) };
    const { code, out } = await doctor(aws, healthyGitHub(), '--json');
    const report = JSON.parse(out) as { ok: boolean; checks: { id: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'dlq')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('not authorized'),
    });
    expect(report.checks.find((c) => c.id === 'correlator')).toMatchObject({ ok: true });
    expect(code).toBe(EXIT.failure);
  });

  it("passes the webhook check on the organisation's webhook, read with organization_hooks: read", async () => {
    const orgs: string[] = [];
    const github = {
      ...orgWebhookGitHub(),
      orgHooks: async (org: string) => {
        orgs.push(org);
        return f.orgHooks;
      },
    };
    const { code, out } = await doctor(healthyAws(), github);
    expect(out).toMatch(
      /ok +webhook points at the Function URL.*: org webhook 1, last 1 deliveries succeeded/,
    );
    expect(orgs).toEqual(['example-org']);
    expect(code).toBe(EXIT.ok);
  });

  it('says it could not read the organisation webhooks, and why, without asking GitHub', async () => {
    const github = {
      ...orgWebhookGitHub(),
      installation: async () => f.installation,
      orgHooks: async () => Promise.reject(new Error('must not be called')),
    };
    const { code, out } = await doctor(healthyAws(), github);
    expect(out).toContain('organisation webhooks not read (the App lacks organization_hooks: read)');
    expect(out).toMatch(/FAIL webhook points at the Function URL/);
    expect(code).toBe(EXIT.failure);
  });

  it("says so when GitHub refuses the organisation webhooks (403), and keeps the App webhook's verdict", async () => {
    const refused = Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
    const github = {
      ...healthyGitHub(),
      installation: orgWebhookGitHub().installation,
      orgHooks: async () => Promise.reject(refused),
    };
    const { code, out } = await doctor(healthyAws(), github);
    expect(out).toMatch(
      /ok +webhook points at .*: app webhook, last 2 deliveries succeeded; organisation webhooks not read \(GitHub answered 403: Resource not accessible by integration\)/,
    );
    expect(code).toBe(EXIT.ok);
  });
});
