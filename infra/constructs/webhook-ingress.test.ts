import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { WebhookIngress, type WebhookIngressProps } from './webhook-ingress';

function setup(
  props: Partial<WebhookIngressProps> = {},
  stackProps: object = { env: { account: '123456789012', region: 'eu-west-1' } },
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleetwarden', stackProps);
  const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
  const ingress = new WebhookIngress(stack, 'Webhook', { alarmTopic, ...props });
  return { app, stack, ingress, template: () => Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const statements = (t: Template): Statement[] =>
  Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
const actions = (t: Template) => statements(t).flatMap((s) => [s.Action].flat());

describe('WebhookIngress construct', () => {
  it('exposes the function through a Function URL without IAM auth (GitHub signs with HMAC instead)', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      // well inside GitHub's own 10 s: a slow call fails in Lambda (5xx, redeliverable) before
      // GitHub times out; reserved concurrency so a flood of requests at a public URL cannot take
      // the account's concurrency (nor be starved by other functions)
      Timeout: 5,
      ReservedConcurrentExecutions: 50,
      Environment: {
        Variables: Match.objectLike({
          WEBHOOK_SECRET_ARN: Match.anyValue(),
          EVENT_BUS_NAME: Match.anyValue(),
          IDEMPOTENCY_TABLE: Match.anyValue(),
          MAX_BODY_BYTES: '1048576',
        }),
      },
    });
  });

  it('creates a custom bus, a generated KMS-encrypted secret and a PITR/KMS idempotency table with TTL', () => {
    const t = setup().template();
    t.resourceCountIs('AWS::Events::EventBus', 1);
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
      KmsKeyId: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
    });
  });

  it('grants exactly: PutEvents on the bus, read of the secret, item access on the table', () => {
    const t = setup().template();
    const all = actions(t);
    expect(all).toEqual(
      expect.arrayContaining([
        'events:PutEvents',
        'secretsmanager:GetSecretValue',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ]),
    );
    expect(all.filter((a) => a.startsWith('dynamodb:'))).not.toContain('dynamodb:Scan');
    const put = statements(t).find((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(JSON.stringify(put?.Resource)).toContain('WebhookBus');
  });

  it('bounds the age of a workflow_job delivery (replays) at 1 hour by default, and takes another', () => {
    const env = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment.Variables;
    expect(env(setup().template()).MAX_JOB_AGE_SECONDS).toBe('3600');
    expect(env(setup({ maxJobAge: Duration.minutes(30) }).template()).MAX_JOB_AGE_SECONDS).toBe('1800');
    expect(() => setup({ maxJobAge: Duration.seconds(30) })).toThrow(
      'maxJobAge must be 60..259200 seconds (MAX_JOB_AGE_SECONDS: Too small: expected number to be >=60), got 30 s (30 seconds)',
    );
  });

  it('refuses a maxJobAge longer than idempotencyTtl: a body replayed after its dedupe record expires would be published again', () => {
    expect(() => setup({ idempotencyTtl: Duration.hours(1), maxJobAge: Duration.hours(2) })).toThrow(
      'maxJobAge (2 hours) must not exceed idempotencyTtl (1 hour)',
    );
    // the defaults count too: 3 days of maxJobAge against a 1-hour dedupe window
    expect(() => setup({ idempotencyTtl: Duration.hours(1), maxJobAge: Duration.days(3) })).toThrow(
      'maxJobAge (3 days) must not exceed idempotencyTtl (1 hour)',
    );
    expect(() => setup({ idempotencyTtl: Duration.hours(2) })).not.toThrow();
    expect(() => setup({ idempotencyTtl: Duration.hours(1), maxJobAge: Duration.hours(1) })).not.toThrow();
  });

  it('alarms on a burst of refused signatures (a wrong secret, or someone knocking at the URL)', () => {
    setup()
      .template()
      .hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'WebhookSignatureRefused',
        Namespace: 'Fleetwarden',
        Statistic: 'Sum',
        Threshold: 10,
        AlarmActions: [Match.anyValue()],
      });
  });

  it('takes a different reserved concurrency', () => {
    setup({ reservedConcurrency: 5 }).template().hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 5,
      ReservedConcurrentExecutions: 5,
    });
  });

  it('uses a given bus and secret instead of creating them', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const bus = new events.EventBus(stack, 'Existing');
    const secret = new secretsmanager.Secret(stack, 'Given');
    const ingress = new WebhookIngress(stack, 'Webhook', {
      alarmTopic: new sns.Topic(stack, 'T'),
      bus,
      webhookSecret: secret,
    });
    expect(ingress.bus).toBe(bus);
    expect(ingress.webhookSecret).toBe(secret);
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it("keeps today's template for one pool: the generated secret (same logical id) as WEBHOOK_SECRET_ARN", () => {
    const { stack, ingress } = setup();
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::SecretsManager::Secret'))).toEqual([
      expect.stringMatching(/^WebhookWebhookSecret[0-9A-F]{8}$/),
    ]);
    const env = Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment.Variables;
    expect(env.WEBHOOK_POOLS).toBeUndefined();
    expect(env.WEBHOOK_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^WebhookWebhookSecret/) });
    expect(ingress.pools.map((p) => [p.name, p.host, p.webhookSecret])).toEqual([
      ['default', 'github.com', ingress.webhookSecret],
    ]);
  });

  it("serves several pools: each pool's secret in WEBHOOK_POOLS and readable, one Function URL", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    const ghesSecret = new secretsmanager.Secret(stack, 'GhesSecret');
    const ingress = new WebhookIngress(stack, 'Webhook', {
      alarmTopic: new sns.Topic(stack, 'T'),
      pools: [{ name: 'default' }, { name: 'ghes', host: 'GHE.example.com', webhookSecret: ghesSecret }],
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Url', 1);
    // the default pool keeps the generated secret and its logical id
    const secrets = Object.keys(t.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^WebhookWebhookSecret[0-9A-F]{8}$/),
        expect.stringMatching(/^GhesSecret/),
      ]),
    );
    expect(secrets).toHaveLength(2);
    const vars = Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment.Variables;
    expect(vars.WEBHOOK_SECRET_ARN).toBeUndefined();
    const pools = JSON.stringify(vars.WEBHOOK_POOLS);
    expect(pools).toContain('\\"pool\\":\\"default\\",\\"host\\":\\"github.com\\"');
    expect(pools).toContain('\\"pool\\":\\"ghes\\",\\"host\\":\\"ghe.example.com\\"');
    const read = statements(t).find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    const resources = JSON.stringify(read?.Resource);
    expect(resources).toContain('WebhookWebhookSecret');
    expect(resources).toContain('GhesSecret');
    expect(ingress.pools.map((p) => [p.name, p.host])).toEqual([
      ['default', 'github.com'],
      ['ghes', 'ghe.example.com'],
    ]);
  });

  it('generates a secret for a pool given none', () => {
    const { stack } = setup({ pools: [{ name: 'ghes', host: 'ghe.example.com' }] });
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::SecretsManager::Secret'))).toEqual([
      expect.stringMatching(/^WebhookWebhookSecretghes[0-9A-F]{8}$/),
    ]);
  });

  it.each([
    [{ pools: [] }, 'pools must name at least one pool'],
    [{ pools: [{ name: 'a' }, { name: 'a' }] }, 'pool "a" is listed twice'],
    [{ pools: [{ name: 'Bad_Name' }] }, 'pool name "Bad_Name" must be [a-z][a-z0-9-]{0,19}'],
    [
      { pools: [{ name: 'a', host: 'https://ghe.example.com' }] },
      'pool a: host "https://ghe.example.com" must be a hostname',
    ],
  ])('refuses pools %o', (props, message) => {
    expect(() => setup(props as Partial<WebhookIngressProps>)).toThrow(message);
  });

  it('refuses one secret for two pools, and webhookSecret beside a default pool that has its own', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const shared = new secretsmanager.Secret(stack, 'Shared');
    const alarmTopic = new sns.Topic(stack, 'T');
    expect(
      () =>
        new WebhookIngress(stack, 'W1', {
          alarmTopic,
          pools: [
            { name: 'a', webhookSecret: shared },
            { name: 'b', host: 'ghe.example.com', webhookSecret: shared },
          ],
        }),
    ).toThrow('pools a and b share a webhook secret');
    expect(
      () =>
        new WebhookIngress(stack, 'W2', {
          alarmTopic,
          webhookSecret: shared,
          pools: [{ name: 'default', webhookSecret: new secretsmanager.Secret(stack, 'Other') }],
        }),
    ).toThrow('webhookSecret and pools[default].webhookSecret');
  });

  it.each([
    [
      { maxBodyBytes: 100 },
      'maxBodyBytes must be 1024..6291456 bytes (MAX_BODY_BYTES: Too small: expected number to be >=1024), got 100',
    ],
    [
      { idempotencyTtl: Duration.minutes(5) },
      'idempotencyTtl must be 3600..2592000 seconds (DEDUPE_TTL_SECONDS: Too small: expected number to be >=3600), got 300 s (5 minutes)',
    ],
    [{ reservedConcurrency: 0 }, 'reservedConcurrency must be an integer from 1 to 1000, got 0'],
  ])('refuses %o', (props, message) => {
    expect(() => setup(props as Partial<WebhookIngressProps>)).toThrow(message);
  });

  it.each([
    ['an environment-bound stack', { env: { account: '123456789012', region: 'eu-west-1' } }],
    ['an environment-agnostic stack', {}],
  ])('passes cdk-nag AwsSolutions and the fleet checks in %s', async (_what, stackProps) => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const { app } = setup({}, stackProps);
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
  });
});
