import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { FakeClock } from '../shared/cloudtrail/testing/fake-clock';
import { FakeApprovals } from './approvals/testing/fake-approvals';
import type { CliDeps } from './deps';

/**
 * CliDeps for tests: captured stdout/stderr, a fake clock, in-memory files, SDK clients to mock, and
 * the approvals (stack outputs, proposals, decisions, STS) in memory (`approvals`).
 */
export function testDeps(now = '2026-11-24T12:00:00Z', env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  const clock = new FakeClock(Date.parse(now));
  const approvals = new FakeApprovals();
  const deps: CliDeps = {
    stdout: { write: (s) => void out.push(s) },
    stderr: { write: (s) => void err.push(s) },
    env: { AWS_REGION: 'eu-west-1', FLEETWARDEN_AUDIT_TABLE: 'Fleetwarden-AuditTable', ...env },
    clock,
    aws: async () => ({
      cloudtrail: (region) => new CloudTrailClient({ region }),
      dynamodb: (region) => new DynamoDBClient({ region }),
      ec2: (region) => new EC2Client({ region }),
      logs: (region) => new CloudWatchLogsClient({ region }),
      sqs: (region) => new SQSClient({ region }),
    }),
    approvals: async (at) => approvals.wiring(at),
    writeFile: async (path, content) => void files.set(path, content),
    readFile: async (path) => {
      const content = files.get(path);
      if (content === undefined)
        throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return content;
    },
  };
  return { deps, clock, files, approvals, stdout: () => out.join(''), stderr: () => err.join('') };
}
