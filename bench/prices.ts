/**
 * Published AWS unit prices used by bench/cost.bench.ts: one dated table, us-east-1, on-demand,
 * without free tiers. Taken from the pages below as published in 2025 (DynamoDB's on-demand prices
 * after the November 2024 reduction); NOT re-read on the bench's date: check the pages before
 * quoting a bill. Change a price here only with its source and a new date.
 */
export const PRICES_AS_OF = '2025-01 (us-east-1, on-demand, no free tier)';

export const PRICES = {
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    perMillionRequests: 0.2,
    /** Arm (Graviton2), first pricing tier */
    perGbSecondArm: 0.0000133334,
  },
  sqs: { source: 'https://aws.amazon.com/sqs/pricing/', perMillionRequests: 0.4 },
  dynamodb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
  },
  kms: {
    source: 'https://aws.amazon.com/kms/pricing/',
    perKeyMonth: 1,
    per10kRequests: 0.03,
  },
  cloudwatch: {
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    logsIngestedPerGb: 0.5,
    logsStoredPerGbMonth: 0.03,
    perMetricMonth: 0.3,
    perStandardAlarmMonth: 0.1,
    perDashboardMonth: 3,
  },
  xray: {
    source: 'https://aws.amazon.com/xray/pricing/',
    perMillionTracesRecorded: 5,
    /**
     * X-Ray's default sampling rule, which Lambda's active tracing applies (not configurable for
     * Lambda): the first request each second (the reservoir, per account and region), then 5% of the
     * rest. https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html,
     * https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
     */
    sampling: { reservoirPerSecond: 1, fixedRate: 0.05 },
  },
  eventbridge: {
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    /** custom and partner events; AWS service events on the default bus are free */
    perMillionCustomEvents: 1,
  },
  secretsManager: {
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    perSecretMonth: 0.4,
    per10kApiCalls: 0.05,
  },
} as const;
