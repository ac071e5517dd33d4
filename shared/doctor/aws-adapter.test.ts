import { AutoScalingClient, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsDoctorAdapter } from './aws-adapter';
import * as f from './testing/fixtures';

const secrets = mockClient(SecretsManagerClient);
const asg = mockClient(AutoScalingClient);
const sqs = mockClient(SQSClient);
const logs = mockClient(CloudWatchLogsClient);
const cfn = mockClient(CloudFormationClient);
const cloudwatch = mockClient(CloudWatchClient);
const adapter = () =>
  new AwsDoctorAdapter({
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
    sqs: new SQSClient({ region: 'eu-west-1' }),
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
  });

describe('AwsDoctorAdapter (read-only calls the doctor makes)', () => {
  beforeEach(() => {
    for (const m of [secrets, asg, sqs, logs, cfn, cloudwatch]) m.reset();
  });

  it('reads a secret string, null when the secret does not exist', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'app' }).resolves({ SecretString: f.appSecretString });
    secrets
      .on(GetSecretValueCommand, { SecretId: 'gone' })
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await adapter().secretString('app')).toBe(f.appSecretString);
    expect(await adapter().secretString('gone')).toBeNull();
  });

  it('describes the lifecycle hooks of one group', async () => {
    asg.on(DescribeLifecycleHooksCommand, { AutoScalingGroupName: 'ci-runners' }).resolves(f.lifecycleHooks);
    expect(await adapter().lifecycleHooks('ci-runners')).toEqual(f.lifecycleHooks);
  });

  it("reads the depth of the stack's dead-letter queues only, every page of ListQueues", async () => {
    const url = (n: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${n}`;
    sqs
      .on(ListQueuesCommand, { QueueNamePrefix: 'Fleetwarden', NextToken: undefined })
      .resolves({ QueueUrls: [url('Fleetwarden-DnsQueue-A')], NextToken: 't' })
      .on(ListQueuesCommand, { QueueNamePrefix: 'Fleetwarden', NextToken: 't' })
      .resolves({ QueueUrls: [url('Fleetwarden-DnsDeadLetterQueue-B')] });
    sqs.on(GetQueueAttributesCommand).resolves(f.emptyQueueAttributes);
    expect(await adapter().deadLetterQueues('Fleetwarden')).toEqual({
      'Fleetwarden-DnsDeadLetterQueue-B': f.emptyQueueAttributes,
    });
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input).toEqual({
      QueueUrl: url('Fleetwarden-DnsDeadLetterQueue-B'),
      AttributeNames: ['ApproximateNumberOfMessages'],
    });
  });

  it("reads the newest log stream of the stack's correlator log group, every page of log groups", async () => {
    logs
      .on(DescribeLogGroupsCommand, { logGroupNamePrefix: 'Fleetwarden', nextToken: undefined })
      .resolves({ logGroups: [{ logGroupName: 'Fleetwarden-DnsSyncLogGroup-A' }], nextToken: 'p2' })
      .on(DescribeLogGroupsCommand, { logGroupNamePrefix: 'Fleetwarden', nextToken: 'p2' })
      .resolves({ logGroups: [{ logGroupName: 'Fleetwarden-AuditCorrelateLogGroup-B' }] });
    logs
      .on(DescribeLogStreamsCommand, {
        logGroupName: 'Fleetwarden-AuditCorrelateLogGroup-B',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 1,
      })
      .resolves(f.correlatorLogStreams);
    expect(await adapter().correlatorLogStreams('Fleetwarden')).toEqual(f.correlatorLogStreams);
  });

  it("reads the stack's outputs with DescribeStacks, undefined when the stack does not exist", async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'Fleetwarden' }).resolves(f.describeStacks);
    cfn.on(DescribeStacksCommand, { StackName: 'Gone' }).rejects(f.stackDoesNotExist('Gone'));
    expect(await adapter().stackOutputs('Fleetwarden')).toEqual(f.cdkOutputs.Fleetwarden);
    expect(await adapter().stackOutputs('Gone')).toBeUndefined();
  });

  it("lists the stack's alarms in ALARM by name prefix, every page of DescribeAlarms", async () => {
    const second = { AlarmName: 'Fleetwarden-CorrelateErrors-DEF', StateValue: 'ALARM' as const };
    cloudwatch
      .on(DescribeAlarmsCommand, {
        AlarmNamePrefix: 'Fleetwarden',
        StateValue: 'ALARM',
        NextToken: undefined,
      })
      .resolves({ ...f.firingAlarm, NextToken: 'n2' })
      .on(DescribeAlarmsCommand, { AlarmNamePrefix: 'Fleetwarden', StateValue: 'ALARM', NextToken: 'n2' })
      .resolves({ MetricAlarms: [second] });
    expect(await adapter().alarmsInAlarm('Fleetwarden')).toEqual({
      MetricAlarms: [...f.firingAlarm.MetricAlarms, second],
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(2);
  });
});
