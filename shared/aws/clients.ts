import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { traceSdkCalls } from '../observability/sdk-call-tracing';
import { instrumentClient } from './call-recorder';

/**
 * One memoised, instrumented SDK client per service for the whole process (Lambda reuses it across
 * warm invocations). Adapters take a client in their constructor and default to these; tests pass
 * their own. Retries: the SDK's adaptive mode with a bounded attempt count, except where the domain
 * owns them (Route 53 here: one attempt; CloudTrail's lookup adapter builds its own one-attempt
 * clients behind the 2 req/s limiter). With SDK-call tracing on (FleetFunction `sdkCallTracing`;
 * off by default and then left out of the bundle) each client is also handed to the Powertools
 * tracer (a no-op outside Lambda). The CLI builds its own clients (cli/deps.ts).
 */
function memo<T extends object>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    // the recorder feeds the audit record; the tracer, when SDK-call tracing is on, adds an X-Ray
    // subsegment per call, so a slow or throttled call shows in the trace of the invocation
    value ??= traceSdkCalls(make());
    return value;
  };
}

const common = { maxAttempts: 4, retryMode: 'adaptive' } as const;

// `@__PURE__` lets esbuild drop every client a function does not use: without it each bundle
// carried every SDK client (1.7 MB; EC2's alone is 1 MB). bench/bundles.test.ts guards this.

// Route 53: one attempt per call. shared/dns/apply.ts retries Throttling/PriorRequestNotComplete
// with full jitter against the invocation's time left; SDK retries inside would stack (4 x 6 attempts).
export const defaultRoute53Client = /* @__PURE__ */ memo(() =>
  instrumentClient(new Route53Client({ ...common, maxAttempts: 1 })),
);
export const defaultEc2Client = /* @__PURE__ */ memo(() => instrumentClient(new EC2Client(common)));
export const defaultAutoScalingClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new AutoScalingClient(common)),
);
export const defaultDynamoDbClient = /* @__PURE__ */ memo(() => instrumentClient(new DynamoDBClient(common)));
export const defaultEventBridgeClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new EventBridgeClient(common)),
);
export const defaultSecretsManagerClient = /* @__PURE__ */ memo(() =>
  instrumentClient(new SecretsManagerClient(common)),
);
export const defaultSqsClient = /* @__PURE__ */ memo(() => instrumentClient(new SQSClient(common)));
export const defaultSnsClient = /* @__PURE__ */ memo(() => instrumentClient(new SNSClient(common)));
