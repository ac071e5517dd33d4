/**
 * Recorded response shapes the doctor's checks read, as the API references document them (field
 * names, casing and value formats kept; ids and values made up). Each `passing` fixture describes a
 * healthy deployment; tests derive failing ones by changing one fact.
 */

/** `cdk deploy --outputs-file outputs.json`: stack name -> output key -> value. */
export const cdkOutputs = {
  Fleetwarden: {
    AuditTableName: 'Fleetwarden-AuditTable1234-ABCDEF',
    InvestigatorRoleArn: 'arn:aws:iam::123456789012:role/Fleetwarden-AuditInvestigator-ABC',
    WebhookUrl: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/',
    WebhookSecretName: 'WebhookSecret-abc123',
    EventBusName: 'Fleetwarden-fleet-bus',
    GitHubAppSecretName: 'GitHubAppSecret-def456',
  },
};

/** GitHub App credentials as the runner functions read them from Secrets Manager (SecretString). */
export const appSecretString = JSON.stringify({
  appId: '123456',
  installationId: '7890123',
  privateKey: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----\n',
});

/** What CDK's generated secret holds before anyone replaces it (GetSecretValue SecretString). */
export const generatedSecretString = 'x5`K&j3ZpQ!rT8^mWv2#Lq9@Nc6$Hf1%';

/** GET /app/installations/{installation_id} (REST API "Get an installation for the authenticated app"). */
export const installation = {
  id: 7890123,
  account: { login: 'example-org', id: 1, type: 'Organization' },
  target_type: 'Organization',
  repository_selection: 'all',
  app_id: 123456,
  app_slug: 'fleetwarden-example-org',
  permissions: { organization_self_hosted_runners: 'write', administration: 'write', actions: 'read' },
  events: ['workflow_job'],
  suspended_at: null,
  created_at: '2026-11-01T10:00:00Z',
  updated_at: '2026-11-01T10:00:00Z',
};

/** GET /app/hook/config ("Get a webhook configuration for an app"); the secret comes back masked. */
export const appHookConfig = {
  content_type: 'json',
  insecure_ssl: '0',
  secret: '********',
  url: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/',
};

/** GET /orgs/{org}/hooks ("List organization webhooks"). */
export const orgHooks = [
  {
    id: 1,
    name: 'web',
    active: true,
    events: ['workflow_job'],
    config: {
      url: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/',
      content_type: 'json',
      insecure_ssl: '0',
    },
    type: 'Organization',
  },
];

/** GET /orgs/{org}/hooks/{hook_id}/deliveries ("List deliveries for an organization webhook"). */
export const orgHookDeliveries = [
  {
    id: 22345678,
    guid: '1c989ba4-242f-11e5-81e1-c7b6966d2516',
    delivered_at: '2026-11-30T09:01:00Z',
    redelivery: false,
    duration: 0.22,
    status: 'OK',
    status_code: 200,
    event: 'workflow_job',
    action: 'in_progress',
    installation_id: null,
    repository_id: 42,
  },
];

/** The 403 GitHub answers an installation token without the permission a route needs. */
export const notAccessibleByIntegration = {
  message: 'Resource not accessible by integration',
  documentation_url: 'https://docs.github.com/rest/orgs/webhooks#list-organization-webhooks',
  status: '403',
};

/** POST /app/installations/{installation_id}/access_tokens ("Create an installation access token"). */
export const installationToken = {
  token: 'ghs_16C7e42F292c6912E7710c838347Ae178B4a',
  expires_at: '2026-11-30T10:10:00Z',
  permissions: { organization_hooks: 'read' },
  repository_selection: 'all',
};

/** GET /app/hook/deliveries ("List deliveries for an app webhook"), newest first. */
export const deliveries = [
  {
    id: 12345678,
    guid: '0b989ba4-242f-11e5-81e1-c7b6966d2516',
    delivered_at: '2026-11-30T09:00:00Z',
    redelivery: false,
    duration: 0.27,
    status: 'OK',
    status_code: 200,
    event: 'workflow_job',
    action: 'queued',
    installation_id: 7890123,
    repository_id: 42,
  },
  {
    id: 12345677,
    guid: '0a1b2c3d-242f-11e5-81e1-c7b6966d2516',
    delivered_at: '2026-11-30T08:59:00Z',
    redelivery: false,
    duration: 0.31,
    status: 'OK',
    status_code: 202,
    event: 'workflow_job',
    action: 'completed',
    installation_id: 7890123,
    repository_id: 42,
  },
];

/** Auto Scaling DescribeLifecycleHooks output for one group. */
export const lifecycleHooks = {
  LifecycleHooks: [
    {
      LifecycleHookName: 'fleetwarden-drain',
      AutoScalingGroupName: 'ci-runners',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 900,
      GlobalTimeout: 90000,
      DefaultResult: 'CONTINUE',
    },
  ],
};

/** SQS GetQueueAttributes output (AttributeNames: ApproximateNumberOfMessages). */
export const emptyQueueAttributes = { Attributes: { ApproximateNumberOfMessages: '0' } };

/** CloudWatch DescribeAlarms output (MetricAlarms). */
export const alarms = {
  MetricAlarms: [
    { AlarmName: 'Fleetwarden-DnsSyncErrors-ABC', StateValue: 'OK', StateReason: 'Threshold Crossed' },
    {
      AlarmName: 'Fleetwarden-CorrelateErrors-DEF',
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked',
    },
  ],
};

/** CloudWatch Logs DescribeLogStreams (orderBy LastEventTime, descending, limit 1) output. */
export const correlatorLogStreams = {
  logStreams: [
    {
      logStreamName: '2026/11/30/[$LATEST]0123456789abcdef',
      creationTime: 1796029000000,
      lastEventTimestamp: Date.parse('2026-11-30T09:00:00Z'),
      storedBytes: 0,
    },
  ],
};

/** CloudFormation DescribeStacks output (StackName: Fleetwarden): the same outputs as a list. */
export const describeStacks = {
  Stacks: [
    {
      StackId:
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/Fleetwarden/5b2a4f30-8f0e-11ee-b9d1-0242ac120002',
      StackName: 'Fleetwarden',
      CreationTime: new Date('2026-11-01T10:00:00Z'),
      LastUpdatedTime: new Date('2026-11-30T08:00:00Z'),
      StackStatus: 'UPDATE_COMPLETE' as const,
      Outputs: Object.entries(cdkOutputs.Fleetwarden).map(([OutputKey, OutputValue]) => ({
        OutputKey,
        OutputValue,
        ...(OutputKey === 'WebhookUrl' ? { Description: 'GitHub webhook Function URL' } : {}),
      })),
    },
  ],
};

/** What DescribeStacks answers for a stack that does not exist (HTTP 400). */
export const stackDoesNotExist = (stackName: string) =>
  Object.assign(new Error(`Stack with id ${stackName} does not exist`), { name: 'ValidationError' });

/** CloudWatch DescribeAlarms (StateValue ALARM) output with one metric alarm firing. */
export const firingAlarm = {
  MetricAlarms: [
    {
      AlarmName: 'Fleetwarden-DnsSyncErrors-ABC',
      AlarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Fleetwarden-DnsSyncErrors-ABC',
      StateValue: 'ALARM' as const,
      StateReason:
        'Threshold Crossed: 1 datapoint [2.0 (30/11/26 09:00:00)] was greater than the threshold (0.0).',
      StateUpdatedTimestamp: new Date('2026-11-30T09:01:00Z'),
    },
  ],
  CompositeAlarms: [],
};
