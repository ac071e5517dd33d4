import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../shared/cloudtrail/token-bucket';
import { systemClock } from '../shared/cloudtrail/token-bucket';
import type { ApprovalsAt, ApprovalsAws } from './approvals/port';

export interface Output {
  write(text: string): void;
}

/** AWS SDK clients per region (memoised). */
export interface AwsClients {
  cloudtrail(region: string): CloudTrailClient;
  dynamodb(region: string): DynamoDBClient;
  ec2(region: string): EC2Client;
  logs(region: string): CloudWatchLogsClient;
  sqs(region: string): SQSClient;
}

/** What every command gets: where to print, the clock, the environment and AWS clients per region. */
export interface CliDeps {
  stdout: Output;
  /** Progress and errors go here, so stdout stays machine-readable. */
  stderr: Output;
  env: Record<string, string | undefined>;
  clock: Clock;
  /**
   * The AWS clients, loaded on first use: the SDK is most of the CLI's code, and `--help` or
   * `timeline --audit-file` never loads it (bench/cli-startup.bench.ts).
   */
  aws(): Promise<AwsClients>;
  /** The approvals' stack outputs, tables and Approver role, in a region, as a named profile. */
  approvals(at: ApprovalsAt): Promise<ApprovalsAws>;
  writeFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
}

/** Real wiring: the default credential chain (use the Investigator role), adaptive retries. */
export function defaultDeps(): CliDeps {
  let clients: Promise<AwsClients> | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: systemClock,
    aws: () => {
      clients ??= import('./aws-clients').then((m) => m.awsClients());
      return clients;
    },
    approvals: async (at) => (await import('./approvals/aws')).awsApprovals(at),
    writeFile: async (path, content) => (await import('node:fs/promises')).writeFile(path, content, 'utf8'),
    readFile: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
  };
}
