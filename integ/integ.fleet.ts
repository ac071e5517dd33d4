/**
 * Integration test: deploys the real FleetStack next to a throwaway fixture (private zone, tiny
 * ASG) and proves the pieces work together in AWS. Written with integ-tests-alpha for integ-runner,
 * run today by integ/snapshot.ts and integ/deploy.ts (integ-runner cannot read this CDK's cloud
 * assembly yet; integ/README.md):
 *
 *   npm run integ            offline: synthesize and compare with the committed snapshot
 *   npm run integ:deploy     real account: deploy, run the assertions below, always destroy
 *
 * Every assertion waits with a deadline instead of sleeping: DNS and CloudTrail are eventually
 * consistent, and a freshly deployed function or URL is not usable the instant CloudFormation
 * reports it created (the races are listed in integ/README.md with the step that catches each).
 */

import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Webhooks } from '@octokit/webhooks';
import { App, Aspects, Aws, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { parseFleetConfig } from '../infra/config';
import { RemediationFunction } from '../infra/constructs/remediation-function';
import { applyGuardrails } from '../infra/guardrails/guardrails';
import { FleetStack } from '../infra/stacks/fleet-stack';
import { AUDIT_TABLE, normaliseRecordName } from '../shared/audit/table-design';
import { GITHUB_EVENT_SOURCE } from '../shared/github/workflow-job-event';
import { workflowJobPayload } from '../shared/webhook/testing/payloads';
import { INTEG_CLOCK_CONTEXT, integAppProps } from './clock';
import {
  alreadyExecutedExpected,
  correlatedRecordExpected,
  decisionWrittenExpected,
  emptyQueueExpected,
  executedExpected,
  proposedExpected,
} from './expectations';
import { approvalProbe } from './fixtures/approval-probe/definition';
import { DestroyOnTeardown, FixtureStack, INTEG_NODE_NAME } from './fixtures/fixture-stack';

const ZONE_NAME = 'fleetwarden-integ.internal';
const NAME_TAG = 'fleetwarden:dns-name';
const RECORD = `${INTEG_NODE_NAME}.${ZONE_NAME}`;
// throwaway: this value exists only in the integration account, for the life of one run
const WEBHOOK_SECRET = 'fleetwarden-integ-webhook-secret';
const DELIVERY_ID = 'fleetwarden-integ-delivery-0001';

const app = new App(integAppProps());
const fixture = new FixtureStack(app, 'FleetwardenIntegFixture', { zoneName: ZONE_NAME, nameTag: NAME_TAG });
const config = parseFleetConfig({
  // replaced below by the fixture zone's id, known only at deploy time
  hostedZoneId: 'Z0PLACEHOLDER',
  zoneName: ZONE_NAME,
  dnsNameTag: NAME_TAG,
  dryRun: false,
  // webhook ingress on (no runner ASGs: the runner features need a real GitHub App)
  github: { owner: 'fleetwarden-integ', webhookOnly: true },
  logRetentionDays: 1,
  auditRetentionDays: 1,
});
const webhookSecret = new secretsmanager.Secret(fixture, 'WebhookSecret', {
  secretStringValue: SecretValue.unsafePlainText(WEBHOOK_SECRET),
  description: 'fleetwarden integration test: known webhook secret (throwaway)',
});
Validations.of(webhookSecret).acknowledge({
  id: 'AwsSolutions-SMG4',
  reason: 'Throwaway secret of one integration run.',
});
// the assertions' approver: a role of fixed name in the test account (its ARN has the account as a
// token, known only at deploy time, so it is given after the config is parsed, like the zone id)
const APPROVER_CALLER = 'fleetwarden-integ-approver';
const approvals = {
  approvers: [`arn:aws:iam::${Aws.ACCOUNT_ID}:role/${APPROVER_CALLER}`],
  required: 1,
  twoPerson: true,
  expiry: 3600,
  notify: { emails: [] },
};
const fleet = new FleetStack(app, 'FleetwardenInteg', {
  config: { ...config, hostedZoneId: fixture.zone.hostedZoneId, approvals },
  webhookSecret,
  description: 'fleetwarden integration test (throwaway)',
});
Aspects.of(app).add(new DestroyOnTeardown());

// the approval flow's probe: an irreversible action without AWS calls, wired like a gated function
const probe = new RemediationFunction(fleet, 'ApprovalProbe', {
  definition: approvalProbe,
  alarmTopic: fleet.alarmTopic,
  audit: fleet.audit,
});
if (!fleet.approvals)
  throw new Error('integ: the fleet must deploy its approval flow (approvals configured)');
fleet.approvals.grantPropose(probe.function);

// a tap on the fleet bus: what the ingress published lands in a queue the test can read
const webhook = fleet.webhook;
if (!webhook) throw new Error('integ: the fleet must deploy its webhook ingress (github configured)');
const tapDeadLetter = new sqs.Queue(fleet, 'IntegBusTapDeadLetter', {
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
});
const tap = new sqs.Queue(fleet, 'IntegBusTap', {
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
});
for (const q of [tap, tapDeadLetter]) {
  Validations.of(q).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'Test tap of one integration run: read once by the assertion, then destroyed.',
  });
}
new events.Rule(fleet, 'IntegBusTapRule', {
  eventBus: webhook.bus,
  eventPattern: { source: [GITHUB_EVENT_SOURCE] },
  targets: [new targets.SqsQueue(tap, { deadLetterQueue: tapDeadLetter })],
});
// the job's time is "now" at deploy (the ingress refuses jobs older than maxJobAge); the offline
// snapshot passes a fixed clock so the signed body, and so the template, stay the same
const clock = app.node.tryGetContext(INTEG_CLOCK_CONTEXT) as string | undefined;
const webhookBody = JSON.stringify(workflowJobPayload('queued', clock ? { at: Date.parse(clock) } : {}));
const webhookSignature = await new Webhooks({ secret: WEBHOOK_SECRET }).sign(webhookBody);

// the assertion provider (integ-tests-alpha's own Lambda) is test harness, not part of the fleet
const assertionStack = new Stack(app, 'FleetwardenIntegAssertions');
for (const id of [
  'Fleetwarden-LambdaIsFleetFunction',
  'AwsSolutions-IAM4',
  'AwsSolutions-IAM5',
  'AwsSolutions-L1',
  // the provider's generated roles: SetDesiredCapacity on the fixture ASG, StartExecution of its waiter,
  // ReceiveMessage on the bus tap
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::autoscaling:SetDesiredCapacity]',
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::states:StartExecution]',
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::sqs:ReceiveMessage]',
  // and Invoke of the approval probe and the approver (step 7)
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::lambda:Invoke]',
]) {
  Validations.of(assertionStack).acknowledge({
    id,
    reason:
      'integ-tests-alpha assertion provider (test harness in a throwaway account), not part of the fleet',
  });
}
// the approver the assertions run (what `fleetwarden approve` does): its role is the configured approver
const approverCaller = new iam.Role(assertionStack, 'ApproverCallerRole', {
  roleName: APPROVER_CALLER,
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
});
Validations.of(approverCaller).acknowledge({
  id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
  reason: 'Test harness in a throwaway account: the approver Lambda only writes its own logs with it.',
});
approverCaller.addToPolicy(
  new iam.PolicyStatement({
    actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
    resources: [fleet.approvals.approverRoleArn],
  }),
);
const approver = new nodejs.NodejsFunction(assertionStack, 'Approver', {
  entry: new URL('./fixtures/approver/index.ts', import.meta.url).pathname,
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  timeout: Duration.seconds(30),
  role: approverCaller,
  environment: {
    APPROVER_ROLE_ARN: fleet.approvals.approverRoleArn,
    PROPOSALS_TABLE: fleet.approvals.proposalsTable.tableName,
    DECISIONS_TABLE: fleet.approvals.decisionsTable.tableName,
  },
  bundling: {
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    // STS from the Lambda runtime's SDK (see the handler)
    externalModules: ['@aws-sdk/client-sts'],
    forceDockerBundling: false,
    banner:
      "import { createRequire as __fwCreateRequire } from 'node:module';const require = __fwCreateRequire(import.meta.url);",
  },
});
const integ = new IntegTest(app, 'FleetwardenIntegTest', {
  testCases: [fixture, fleet],
  assertionStack,
  diffAssets: false,
  cdkCommandOptions: { destroy: { args: { force: true } } },
  regions: ['eu-west-1'],
});
applyGuardrails(app);

const wait = (minutes: number, intervalSeconds = 15) => ({
  totalTimeout: Duration.minutes(minutes),
  interval: Duration.seconds(intervalSeconds),
  backoffRate: 1,
});

// 1. Readiness: the functions the test drives are Active and their event sources Enabled before
//    any event is produced (Pending -> Active; event source mapping Creating -> Enabled).
const syncActive = integ.assertions
  .awsApiCall('Lambda', 'getFunction', { FunctionName: fleet.dns.syncFunction.fn.functionName })
  .expect(ExpectedResult.objectLike({ Configuration: { State: 'Active', LastUpdateStatus: 'Successful' } }))
  .waitForAssertions(wait(5, 5));
const syncSourceEnabled = integ.assertions
  .awsApiCall('Lambda', 'listEventSourceMappings', { FunctionName: fleet.dns.syncFunction.fn.functionName })
  .expect(ExpectedResult.objectLike({ EventSourceMappings: [Match.objectLike({ State: 'Enabled' })] }))
  .waitForAssertions(wait(5, 5));

// 1b. Function URL permission propagation: until it is effective the URL answers 403; our handler
//     answers an unsigned POST with 401. Wait for the 401 before sending the real delivery.
const urlReady = integ.assertions
  .httpApiCall(webhook.functionUrl.url, { method: 'POST', body: '{}', headers: { 'x-github-event': 'ping' } })
  .expect(ExpectedResult.objectLike({ status: 401 }))
  .waitForAssertions(wait(5, 5));

// 1c. A signed workflow_job delivery is accepted (202) and its normalized event reaches the bus.
const delivered = integ.assertions
  .httpApiCall(webhook.functionUrl.url, {
    method: 'POST',
    body: webhookBody,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-delivery': DELIVERY_ID,
      'x-hub-signature-256': webhookSignature,
    },
  })
  .expect(ExpectedResult.objectLike({ status: 202 }));
const busEvent = integ.assertions
  .awsApiCall('SQS', 'receiveMessage', {
    QueueUrl: tap.queueUrl,
    WaitTimeSeconds: 20,
    MaxNumberOfMessages: 10,
  })
  .expect(
    ExpectedResult.objectLike({
      Messages: Match.arrayWith([Match.objectLike({ Body: Match.stringLikeRegexp(DELIVERY_ID) })]),
    }),
  )
  .waitForAssertions(wait(5, 10));

// 7. Approvals (runs between steps 1 and 2): the probe's irreversible action becomes a proposal
//    (stored, announced on the topic) and is only reported; the approver approves it under the
//    Approver role (the only principal the decisions table lets write); the probe's next run acts
//    once, its record naming the proposal; the run after that finds it executed and does nothing.
const probeRun = () =>
  integ.assertions.invokeFunction({
    functionName: probe.function.fn.functionName,
    payload: JSON.stringify({ subject: 'integ-probe' }),
  });
const proposed = probeRun().expect(proposedExpected()).waitForAssertions(wait(5, 10));
const approved = integ.assertions
  .invokeFunction({
    functionName: approver.functionName,
    payload: JSON.stringify({ function: approvalProbe.name, reason: 'integration test approves its probe' }),
  })
  .expect(decisionWrittenExpected())
  .waitForAssertions(wait(5, 10));
const executed = probeRun().expect(executedExpected()).waitForAssertions(wait(5, 10));
const executedOnce = probeRun().expect(alreadyExecutedExpected());

// 2. Launch: one instance; its A record appears in the private zone.
const launch = integ.assertions.awsApiCall('AutoScaling', 'setDesiredCapacity', {
  AutoScalingGroupName: fixture.group.autoScalingGroupName,
  DesiredCapacity: 1,
});
const listFirstRecordAtName = () =>
  integ.assertions.awsApiCall('Route53', 'listResourceRecordSets', {
    HostedZoneId: fixture.zone.hostedZoneId,
    StartRecordName: RECORD,
    StartRecordType: 'A',
    MaxItems: '1',
  });
const recordAppears = listFirstRecordAtName()
  .expect(
    ExpectedResult.objectLike({ ResourceRecordSets: [Match.objectLike({ Name: `${RECORD}.`, Type: 'A' })] }),
  )
  .waitForAssertions(wait(10));

// 3. Terminate: the A record goes; the first record at or after the name is then the tombstone
//    marker at _fleetwarden.<name> (Route 53 lists a name's subdomains right after it).
const terminate = integ.assertions.awsApiCall('AutoScaling', 'setDesiredCapacity', {
  AutoScalingGroupName: fixture.group.autoScalingGroupName,
  DesiredCapacity: 0,
});
const recordGone = listFirstRecordAtName()
  .expect(
    ExpectedResult.objectLike({
      ResourceRecordSets: [Match.objectLike({ Name: `_fleetwarden.${RECORD}.`, Type: 'TXT' })],
    }),
  )
  .waitForAssertions(wait(10));

// 4. Evidence: the audit record dns-sync wrote for the name (not the 15-min dns-reconcile repair,
//    which would mean the event path failed), its ChangeResourceRecordSets call confirmed by a
//    CloudTrail eventId. CloudTrail delivers in ~5 min (no guarantee); audit-correlate runs every 5 min.
const auditCorrelated = integ.assertions
  .awsApiCall('DynamoDB', 'query', {
    TableName: fleet.audit.tableName,
    IndexName: AUDIT_TABLE.indexes.byRecordName.name,
    KeyConditionExpression: '#n = :n',
    ExpressionAttributeNames: { '#n': AUDIT_TABLE.indexes.byRecordName.partitionKey },
    ExpressionAttributeValues: { ':n': { S: normaliseRecordName(RECORD) } },
  })
  .expect(correlatedRecordExpected())
  .waitForAssertions(wait(40, 60));

// 6. Nothing failed on the way: every dead-letter queue of the fleet is empty at the end (a
//    delivery or invocation that failed for good, e.g. AccessDenied from a role not yet effective
//    that outlived the retries, would sit there). Not waited: each result is an AssertionResults
//    output that integ:deploy reads.
const deadLetterQueues = fleet.node
  .findAll()
  .filter(
    (c): c is sqs.Queue => c instanceof sqs.Queue && /DeadLetter$/.test(c.node.id) && c !== tapDeadLetter,
  );
if (deadLetterQueues.length === 0) throw new Error('integ: found no dead-letter queue in the fleet stack');
const deadLettersEmpty = deadLetterQueues.map((q) =>
  integ.assertions
    .awsApiCall('SQS', 'getQueueAttributes', {
      QueueUrl: q.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    })
    .expect(emptyQueueExpected()),
);

syncActive
  .next(syncSourceEnabled)
  .next(urlReady)
  .next(delivered)
  .next(busEvent)
  .next(proposed)
  .next(approved)
  .next(executed)
  .next(executedOnce)
  .next(launch)
  .next(recordAppears)
  .next(terminate)
  .next(recordGone)
  .next(auditCorrelated);
deadLettersEmpty.reduce((previous, check) => previous.next(check), auditCorrelated);

app.synth();
