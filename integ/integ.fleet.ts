/**
 * Integration test: deploys the real FleetStack next to a throwaway fixture (private zone, tiny
 * ASG) and proves the pieces work together in AWS. Run by integ-runner (see integ/README.md):
 *
 *   npm run integ            offline: synthesize and compare with the committed snapshot
 *   npm run integ:deploy     real account: deploy, run the assertions below, always destroy
 *
 * Every assertion waits with a deadline instead of sleeping: DNS and CloudTrail are eventually
 * consistent, and a freshly deployed function or URL is not usable the instant CloudFormation
 * reports it created (the races are listed in integ/README.md with the step that catches each).
 */

import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Aspects, Duration, Stack, Validations } from 'aws-cdk-lib';
import { parseFleetConfig } from '../infra/config';
import { applyGuardrails } from '../infra/guardrails/guardrails';
import { FleetStack } from '../infra/stacks/fleet-stack';
import { AUDIT_TABLE, normaliseRecordName } from '../shared/audit/table-design';
import { DestroyOnTeardown, FixtureStack, INTEG_NODE_NAME } from './fixtures/fixture-stack';

const ZONE_NAME = 'fleetwarden-integ.internal';
const NAME_TAG = 'fleetwarden:dns-name';
const RECORD = `${INTEG_NODE_NAME}.${ZONE_NAME}`;

const app = new App();
const fixture = new FixtureStack(app, 'FleetwardenIntegFixture', { zoneName: ZONE_NAME, nameTag: NAME_TAG });
const config = parseFleetConfig({
  // replaced below by the fixture zone's id, known only at deploy time
  hostedZoneId: 'Z0PLACEHOLDER',
  zoneName: ZONE_NAME,
  dnsNameTag: NAME_TAG,
  dryRun: false,
  logRetentionDays: 1,
  auditRetentionDays: 1,
});
const fleet = new FleetStack(app, 'FleetwardenInteg', {
  config: { ...config, hostedZoneId: fixture.zone.hostedZoneId },
  description: 'fleetwarden integration test (throwaway)',
});
Aspects.of(app).add(new DestroyOnTeardown());

// the assertion provider (integ-tests-alpha's own Lambda) is test harness, not part of the fleet
const assertionStack = new Stack(app, 'FleetwardenIntegAssertions');
for (const id of [
  'Fleetwarden-LambdaIsFleetFunction',
  'AwsSolutions-IAM4',
  'AwsSolutions-IAM5',
  'AwsSolutions-L1',
  // the provider's generated role: SetDesiredCapacity on the fixture ASG, StartExecution of its waiter
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::autoscaling:SetDesiredCapacity]',
  'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::states:StartExecution]',
]) {
  Validations.of(assertionStack).acknowledge({
    id,
    reason:
      'integ-tests-alpha assertion provider (test harness in a throwaway account), not part of the fleet',
  });
}
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

// 4. Evidence: an audit record for the record name whose Route 53 call CloudTrail confirmed.
//    CloudTrail delivers in ~5 min (no guarantee) and audit-correlate runs every 5 min.
const auditCorrelated = integ.assertions
  .awsApiCall('DynamoDB', 'query', {
    TableName: fleet.audit.tableName,
    IndexName: AUDIT_TABLE.indexes.byRecordName.name,
    KeyConditionExpression: '#n = :n',
    ExpressionAttributeNames: { '#n': AUDIT_TABLE.indexes.byRecordName.partitionKey },
    ExpressionAttributeValues: { ':n': { S: normaliseRecordName(RECORD) } },
  })
  .expect(
    ExpectedResult.objectLike({
      Items: Match.arrayWith([
        Match.objectLike({
          [AUDIT_TABLE.recordAttribute]: { S: Match.stringLikeRegexp('"status":"resolved"') },
        }),
      ]),
    }),
  )
  .waitForAssertions(wait(40, 60));

syncActive
  .next(syncSourceEnabled)
  .next(launch)
  .next(recordAppears)
  .next(terminate)
  .next(recordGone)
  .next(auditCorrelated);

app.synth();
