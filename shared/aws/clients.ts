import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../observability/tracer';
import { instrumentClient } from './call-recorder';

/**
 * One memoised, instrumented SDK client per service for the whole process (Lambda reuses it across
 * warm invocations). Adapters take a client in their constructor and default to these; tests pass
 * their own. Retries: the SDK's adaptive mode with a bounded attempt count; the domain's own
 * backoff (e.g. Route 53 PriorRequestNotComplete) sits above it. Each client is also handed to the
 * Powertools tracer (a no-op outside Lambda).
 */
function memo<T extends object>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    // the recorder feeds the audit record; the tracer (active only inside Lambda) adds an X-Ray
    // subsegment per call, so a slow or throttled call shows in the trace of the invocation
    value ??= tracer.captureAWSv3Client(make());
    return value;
  };
}

const common = { maxAttempts: 4, retryMode: 'adaptive' } as const;

// `@__PURE__` lets esbuild drop every client a function does not use: without it each bundle
// carried all ten SDK clients (1.7 MB; EC2's alone is 1 MB). bench/bundles.test.ts guards this.

// Route 53: one attempt per call. shared/dns/apply.ts retries Throttling/PriorRequestNotComplete
// with full jitter against the invocation's time left; SDK retries inside would stack (4 x 6 attempts).
export const defaultRoute53Client = /* @__PURE__ */ memo(() =>
  instrumentClient(new Route53Client({ ...common, maxAttempts: 1 })),
);
export const defaultEc2Client = /* @__PURE__ */ memo(() => instrumentClient(new EC2Client(common)));
export const defaultAutoScalingClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new AutoScalingClient(common)),
);
export const defaultCloudTrailClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new CloudTrailClient(common)),
);
export const defaultDynamoDbClient = /* @__PURE__ */ memo(() => instrumentClient(new DynamoDBClient(common)));
export const defaultEventBridgeClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new EventBridgeClient(common)),
);
export const defaultSecretsManagerClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new SecretsManagerClient(common)),
);
export const defaultSqsClient = /* @__PURE__ */ memo(() => instrumentClient(new SQSClient(common)));
export const defaultKmsClient = /* @__PURE__ */ memo(() => instrumentClient(new KMSClient(common)));
export const defaultCloudWatchLogsClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new CloudWatchLogsClient(common)),
);
