import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../shared/cloudtrail/token-bucket';
import { systemClock } from '../shared/cloudtrail/token-bucket';
import { awsApprovals } from './approvals/aws';
import type { ApprovalsAt, ApprovalsAws } from './approvals/port';

export interface Output {
  write(text: string): void;
}

/** What every command gets: where to print, the clock, the environment and AWS clients per region. */
export interface CliDeps {
  stdout: Output;
  /** Progress and errors go here, so stdout stays machine-readable. */
  stderr: Output;
  env: Record<string, string | undefined>;
  clock: Clock;
  aws: {
    cloudtrail(region: string): CloudTrailClient;
    dynamodb(region: string): DynamoDBClient;
    ec2(region: string): EC2Client;
    logs(region: string): CloudWatchLogsClient;
    sqs(region: string): SQSClient;
  };
  /** The approvals' stack outputs, tables and Approver role, in a region, as a named profile. */
  approvals(at: ApprovalsAt): ApprovalsAws;
  writeFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
}

function perRegion<C>(make: (region: string) => C): (region: string) => C {
  const cache = new Map<string, C>();
  return (region) => {
    let client = cache.get(region);
    if (!client) {
      client = make(region);
      cache.set(region, client);
    }
    return client;
  };
}

/** Real wiring: the default credential chain (use the Investigator role), adaptive retries. */
export function defaultDeps(): CliDeps {
  const common = { maxAttempts: 6, retryMode: 'adaptive' } as const;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: systemClock,
    aws: {
      // one attempt: the commands' RateLimitedLookup owns retries within CloudTrail's 2 req/s
      cloudtrail: perRegion((region) => new CloudTrailClient({ ...common, region, maxAttempts: 1 })),
      dynamodb: perRegion((region) => new DynamoDBClient({ ...common, region })),
      ec2: perRegion((region) => new EC2Client({ ...common, region })),
      logs: perRegion((region) => new CloudWatchLogsClient({ ...common, region })),
      sqs: perRegion((region) => new SQSClient({ ...common, region })),
    },
    approvals: (at) => awsApprovals(at),
    writeFile: async (path, content) => (await import('node:fs/promises')).writeFile(path, content, 'utf8'),
    readFile: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
  };
}
