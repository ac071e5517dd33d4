import { describe, expect, it } from 'vitest';
import {
  checkAlarms,
  checkCorrelatorRan,
  checkDeadLetterQueues,
  checkInstallation,
  checkLifecycleHooks,
  checkSecrets,
  checkStackOutputs,
  checkWebhook,
  orgHooksUnreadable,
  requiredGitHubPermissions,
  webhookPointingAt,
  webhookTargetsFromApp,
  webhookTargetsFromOrg,
} from './checks';
import * as f from './testing/fixtures';

const required = requiredGitHubPermissions([
  { name: 'runner-drain', actions: { deregister: { github: ['organization_self_hosted_runners:write'] } } },
  { name: 'runner-sweep', actions: { remove: { github: ['organization_self_hosted_runners:write'] } } },
  { name: 'dns-sync', actions: { upsert: {} } },
]);
const url = f.cdkOutputs.Fleetwarden.WebhookUrl;

describe('requiredGitHubPermissions (from the definitions)', () => {
  it('lists each permission once with the functions needing it, plus the workflow_job event subscription', () => {
    expect(required).toEqual([
      { permission: 'actions', level: 'read', usedBy: ['webhook-ingress (workflow_job events)'] },
      {
        permission: 'organization_self_hosted_runners',
        level: 'write',
        usedBy: ['runner-drain', 'runner-sweep'],
      },
    ]);
  });
});

describe('checkStackOutputs', () => {
  const cfn = { from: 'cloudformation', region: 'eu-west-1' } as const;
  const file = { from: 'file', file: 'outputs.json', stacks: ['Fleetwarden'] } as const;
  it('passes with the stack and its outputs, read from CloudFormation or from an outputs file', () => {
    expect(checkStackOutputs(f.cdkOutputs.Fleetwarden, 'Fleetwarden', true, cfn).ok).toBe(true);
    expect(checkStackOutputs(f.cdkOutputs.Fleetwarden, 'Fleetwarden', true, file).ok).toBe(true);
  });
  it('fails on a stack CloudFormation does not have, with the fix (deploy it, or name it and its region)', () => {
    const missing = checkStackOutputs(undefined, 'Other', true, cfn);
    expect(missing).toMatchObject({
      ok: false,
      detail: expect.stringContaining('no stack "Other" in eu-west-1'),
    });
    expect(missing.fix).toMatch(/cdk deploy Other.*--stack-name.*--region/);
  });
  it('fails naming the stack missing from the outputs file or a missing output, with the fix', () => {
    const missing = checkStackOutputs(undefined, 'Other', true, file);
    expect(missing).toMatchObject({
      ok: false,
      detail: expect.stringContaining('no stack "Other" in outputs.json'),
    });
    expect(missing.detail).toContain('found: Fleetwarden');
    expect(missing.fix).toMatch(/--outputs-file/);
    const { WebhookUrl: _, ...rest } = f.cdkOutputs.Fleetwarden;
    expect(checkStackOutputs(rest, 'Fleetwarden', true, cfn).detail).toContain('WebhookUrl');
  });
});

describe('checkSecrets (never shows a value)', () => {
  it('passes with App credentials JSON and a webhook secret', () => {
    expect(
      checkSecrets({ appSecret: f.appSecretString, webhookSecret: 'a-long-generated-webhook-secret' }).ok,
    ).toBe(true);
  });
  it('fails on the generated placeholder, a missing key field or a missing secret, without printing it', () => {
    const placeholder = checkSecrets({
      appSecret: f.generatedSecretString,
      webhookSecret: 'a-long-generated-webhook-secret',
    });
    expect(placeholder.ok).toBe(false);
    expect(placeholder.detail).toContain('not JSON');
    expect(placeholder.fix).toMatch(/put-secret-value/);
    expect(JSON.stringify(placeholder)).not.toContain(f.generatedSecretString);
    const noKey = { ...JSON.parse(f.appSecretString), privateKey: 'abc' };
    expect(
      checkSecrets({ appSecret: JSON.stringify(noKey), webhookSecret: 'x'.repeat(32) }).detail,
    ).toContain('privateKey is not a PEM private key');
    expect(checkSecrets({ appSecret: null, webhookSecret: 'x'.repeat(32) }).detail).toContain('not found');
  });
});

describe('checkInstallation', () => {
  it('passes when every permission the functions need is granted at its level', () => {
    expect(checkInstallation(f.installation, required, 'example-org').ok).toBe(true);
  });
  it('fails on a missing or too low permission, another owner, or a suspended installation', () => {
    const low = { ...f.installation, permissions: { organization_self_hosted_runners: 'read' } };
    const r = checkInstallation(low, required, 'example-org');
    expect(r.ok).toBe(false);
    expect(r.detail).toContain(
      'organization_self_hosted_runners: write needed (runner-drain, runner-sweep), read granted',
    );
    expect(r.detail).toContain('actions: read needed');
    expect(checkInstallation(f.installation, required, 'other-org').detail).toContain(
      'installed on example-org',
    );
    expect(
      checkInstallation({ ...f.installation, suspended_at: '2026-11-29T00:00:00Z' }, required, 'example-org')
        .ok,
    ).toBe(false);
  });

  it('names the GHES host it asked (a GHES pool), in the detail and in the fix', () => {
    const ok = checkInstallation(f.installation, required, 'example-org', 'ghe.example.com');
    expect(ok.detail).toContain('on ghe.example.com');
    const low = { ...f.installation, permissions: {} };
    const r = checkInstallation(low, required, 'example-org', 'ghe.example.com');
    expect(r.ok).toBe(false);
    expect(r.fix).toContain('on ghe.example.com');
    expect(r.fix).toContain('Repository permissions > Actions: Read-only');
    expect(checkInstallation(f.installation, required, 'example-org').detail).not.toContain(' on ');
  });
});

describe("checkInstallation: workflow_job needs the App's Actions read (GitHub sends the event to no App without it)", () => {
  it('passes when the installation (GET /app/installations/{id}) grants actions: read', () => {
    expect(f.installation.permissions.actions).toBe('read');
    expect(checkInstallation(f.installation, required, 'example-org')).toMatchObject({ ok: true });
  });
  it('fails when it does not, naming the event and where to grant it', () => {
    const { actions: _none, ...others } = f.installation.permissions;
    const r = checkInstallation({ ...f.installation, permissions: others }, required, 'example-org');
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('actions: read needed (webhook-ingress (workflow_job events)), nothing granted');
    expect(r.fix).toContain('Repository permissions > Actions: Read-only');
    expect(r.fix).toContain('no workflow_job event reaches the fleet without it');
  });
});

describe('checkWebhook: the App webhook or an organisation webhook (GET /orgs/{org}/hooks)', () => {
  const noAppHook = webhookTargetsFromApp({ content_type: 'json' }, f.installation.events);
  const app = webhookTargetsFromApp(f.appHookConfig, f.installation.events);
  const org = webhookTargetsFromOrg(f.orgHooks);
  it('passes on an organisation webhook sending workflow_job as JSON to the Function URL, its deliveries OK', () => {
    const targets = [...noAppHook, ...org];
    expect(webhookPointingAt(targets, url)).toMatchObject({ source: 'org', id: 1 });
    const r = checkWebhook({
      targets,
      deliveries: f.orgHookDeliveries,
      functionUrl: url,
      orgHooks: { read: true },
    });
    expect(r).toMatchObject({ ok: true, detail: 'org webhook 1, last 1 deliveries succeeded' });
  });
  it('fails on an organisation webhook sending form, or whose last deliveries failed', () => {
    const form = webhookTargetsFromOrg([
      { ...f.orgHooks[0], config: { ...f.orgHooks[0]?.config, content_type: 'form' } },
    ]);
    expect(checkWebhook({ targets: form, deliveries: [], functionUrl: url }).detail).toBe(
      'org webhook 1: content type form, not json',
    );
    const failed = [{ ...f.orgHookDeliveries[0], status: 'Invalid HTTP Response: 503', status_code: 503 }];
    expect(checkWebhook({ targets: org, deliveries: failed, functionUrl: url })).toMatchObject({
      ok: false,
      detail: 'org webhook 1: 1 of the last 1 deliveries failed (503)',
    });
  });
  it('fails when both the App and an organisation webhook send workflow_job there: every job arrives twice', () => {
    const r = checkWebhook({ targets: [...app, ...org], deliveries: f.deliveries, functionUrl: url });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain(
      'the App webhook and org webhook 1 both send workflow_job to the Function URL (every job is delivered twice)',
    );
  });
  it('says plainly when the organisation webhooks could not be read, and fails only if no webhook was found', () => {
    const why = 'the App lacks organization_hooks: read';
    const none = checkWebhook({
      targets: noAppHook,
      deliveries: [],
      functionUrl: url,
      orgHooks: { read: false, why },
    });
    expect(none.ok).toBe(false);
    expect(none.detail).toBe(
      `the App webhook does not point at ${url}; organisation webhooks not read (${why})`,
    );
    expect(none.fix).toContain('organization_hooks: read');
    const found = checkWebhook({
      targets: app,
      deliveries: f.deliveries,
      functionUrl: url,
      orgHooks: { read: false, why },
    });
    expect(found).toMatchObject({
      ok: true,
      detail: `app webhook, last 2 deliveries succeeded; organisation webhooks not read (${why})`,
    });
  });
  it('orgHooksUnreadable: the installation must grant organization_hooks (read or write) to list them', () => {
    expect(orgHooksUnreadable(f.installation)).toBe('the App lacks organization_hooks: read');
    const granted = {
      ...f.installation,
      permissions: { ...f.installation.permissions, organization_hooks: 'read' },
    };
    expect(orgHooksUnreadable(granted)).toBeUndefined();
  });
});

describe('checkWebhook', () => {
  const app = webhookTargetsFromApp(f.appHookConfig, f.installation.events);
  it('passes when the App webhook sends workflow_job as JSON to the Function URL and deliveries succeeded', () => {
    expect(checkWebhook({ targets: app, deliveries: f.deliveries, functionUrl: url }).ok).toBe(true);
    expect(
      checkWebhook({ targets: webhookTargetsFromOrg(f.orgHooks), deliveries: [], functionUrl: url }).ok,
    ).toBe(true);
  });
  it('fails on form content type, another URL, no workflow_job event, or failed deliveries', () => {
    const form = webhookTargetsFromApp({ ...f.appHookConfig, content_type: 'form' }, ['workflow_job']);
    expect(checkWebhook({ targets: form, deliveries: [], functionUrl: url }).detail).toContain(
      'content type form',
    );
    const elsewhere = webhookTargetsFromApp({ ...f.appHookConfig, url: 'https://example.com/hook' }, [
      'workflow_job',
    ]);
    expect(checkWebhook({ targets: elsewhere, deliveries: [], functionUrl: url }).detail).toContain(
      'no webhook points at',
    );
    const noEvent = webhookTargetsFromApp(f.appHookConfig, ['push']);
    expect(checkWebhook({ targets: noEvent, deliveries: [], functionUrl: url }).detail).toContain(
      'workflow_job',
    );
    const failed = [{ ...f.deliveries[0], status: 'Invalid HTTP Response: 401', status_code: 401 }];
    const r = checkWebhook({ targets: app, deliveries: failed, functionUrl: url });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('1 of the last 1 deliveries failed (401)');
  });
});

describe('checkLifecycleHooks', () => {
  it("passes when every configured group has the fleet's terminate hook", () => {
    expect(checkLifecycleHooks({ 'ci-runners': f.lifecycleHooks }, 'fleetwarden-drain').ok).toBe(true);
  });
  it('fails naming the group without it', () => {
    const r = checkLifecycleHooks(
      { 'ci-runners': f.lifecycleHooks, other: { LifecycleHooks: [] } },
      'fleetwarden-drain',
    );
    expect(r).toMatchObject({ ok: false, detail: expect.stringContaining('other') });
  });
});

describe('checkDeadLetterQueues', () => {
  it('passes when every DLQ is empty', () => {
    expect(checkDeadLetterQueues({ 'Fleetwarden-DnsDlq': f.emptyQueueAttributes }).ok).toBe(true);
  });
  it('fails naming the queue holding messages', () => {
    const r = checkDeadLetterQueues({
      'Fleetwarden-DnsDlq': { Attributes: { ApproximateNumberOfMessages: '3' } },
    });
    expect(r).toMatchObject({ ok: false, detail: expect.stringContaining('Fleetwarden-DnsDlq: 3') });
  });
});

describe('checkAlarms', () => {
  it('passes when no alarm is in ALARM', () => {
    expect(checkAlarms(f.alarms).ok).toBe(true);
  });
  it('fails naming the alarms in ALARM', () => {
    const firing = { MetricAlarms: [{ AlarmName: 'Fleetwarden-DnsSyncErrors-ABC', StateValue: 'ALARM' }] };
    expect(checkAlarms(firing)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('DnsSyncErrors'),
    });
  });
});

describe('checkCorrelatorRan', () => {
  const now = new Date('2026-11-30T09:10:00Z');
  it('passes when the correlator logged within the window', () => {
    expect(checkCorrelatorRan(f.correlatorLogStreams, now, 30).ok).toBe(true);
  });
  it('fails when its last run is older than the window, or it never ran', () => {
    expect(checkCorrelatorRan(f.correlatorLogStreams, new Date('2026-11-30T12:00:00Z'), 30).ok).toBe(false);
    expect(checkCorrelatorRan({ logStreams: [] }, now, 30).detail).toContain('never');
  });
});
