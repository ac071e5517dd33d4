import { type AutoScalingClient, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { type CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { readStackOutputs } from '../aws/stack-outputs';
import type { DoctorAws } from './port';

export interface DoctorClients {
  secrets: SecretsManagerClient;
  autoScaling: AutoScalingClient;
  sqs: SQSClient;
  logs: CloudWatchLogsClient;
  cloudFormation: CloudFormationClient;
  cloudWatch: CloudWatchClient;
}

/** Dead-letter queues as the fleet's constructs name them (CloudFormation keeps the construct id). */
const DEAD_LETTER = /dead-?letter|dlq/i;

/** The doctor's AWS reads; every call is read-only (the Investigator role grants exactly these). */
export class AwsDoctorAdapter implements DoctorAws {
  constructor(private readonly clients: DoctorClients) {}

  async stackOutputs(stackName: string) {
    return readStackOutputs(this.clients.cloudFormation, stackName);
  }

  /** The stack's metric alarms in ALARM (CloudFormation names them after the stack), every page. */
  async alarmsInAlarm(stackName: string) {
    const MetricAlarms: MetricAlarm[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.clients.cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: stackName, StateValue: 'ALARM', NextToken }),
      );
      MetricAlarms.push(...(page.MetricAlarms ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return { MetricAlarms };
  }

  async secretString(secretId: string): Promise<string | null> {
    try {
      const out = await this.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      return out.SecretString ?? null;
    } catch (err) {
      // absence is the fact the check reports; any other error (access denied) propagates
      if ((err as Error).name === 'ResourceNotFoundException') return null;
      throw err;
    }
  }

  async lifecycleHooks(group: string) {
    return this.clients.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }));
  }

  async deadLetterQueues(stackName: string) {
    const urls: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.clients.sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: stackName, NextToken }),
      );
      urls.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const byName: Record<string, { Attributes?: { ApproximateNumberOfMessages?: string } }> = {};
    for (const QueueUrl of urls) {
      const name = QueueUrl.split('/').pop() ?? QueueUrl;
      if (!DEAD_LETTER.test(name)) continue;
      byName[name] = await this.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
    }
    return byName;
  }

  async correlatorLogStreams(stackName: string) {
    let group: string | undefined;
    let nextToken: string | undefined;
    do {
      const page = await this.clients.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: stackName, nextToken }),
      );
      group = page.logGroups?.find((g) => /Correlate/.test(g.logGroupName ?? ''))?.logGroupName;
      nextToken = page.nextToken;
    } while (!group && nextToken);
    if (!group) return {};
    return this.clients.logs.send(
      new DescribeLogStreamsCommand({
        logGroupName: group,
        orderBy: 'LastEventTime',
        descending: true,
        limit: 1,
      }),
    );
  }
}
