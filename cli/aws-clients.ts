import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClients } from './deps';

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

/** The CLI's SDK clients: the default credential chain (use the Investigator role), adaptive retries. */
export function awsClients(): AwsClients {
  const common = { maxAttempts: 6, retryMode: 'adaptive' } as const;
  return {
    // one attempt: the commands' RateLimitedLookup owns retries within CloudTrail's 2 req/s
    cloudtrail: perRegion((region) => new CloudTrailClient({ ...common, region, maxAttempts: 1 })),
    dynamodb: perRegion((region) => new DynamoDBClient({ ...common, region })),
    ec2: perRegion((region) => new EC2Client({ ...common, region })),
    logs: perRegion((region) => new CloudWatchLogsClient({ ...common, region })),
    sqs: perRegion((region) => new SQSClient({ ...common, region })),
  };
}
