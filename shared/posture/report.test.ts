import { describe, expect, it } from 'vitest';
import type { Coverage, Finding, PostureReport } from './finding';
import { findingKey } from './finding';
import { diffPosture, parseBaseline, renderJson, renderMarkdown } from './report';

const finding = (over: Partial<Finding> & Pick<Finding, 'check' | 'resourceId'>): Finding => {
  const region = over.region ?? 'eu-west-1';
  return {
    key: findingKey(over.check, region, over.resourceId),
    region,
    resourceType: 'AWS::Test',
    status: 'gap',
    detail: 'unencrypted',
    evidence: { operation: 'DescribeVolumes', requestId: 'req-before' },
    ...over,
  };
};

const checked = (
  check: Coverage['check'],
  operation: string,
  requestId: string,
  scope?: string,
): Coverage => ({
  check,
  region: 'eu-west-1',
  status: 'checked',
  found: 0,
  evidence: [{ operation, requestId }],
  ...(scope ? { scope } : {}),
});

const report = (over: Partial<PostureReport>): PostureReport => ({
  kind: 'fleetwarden.posture',
  version: 1,
  generatedAt: '2026-11-24T12:00:00.000Z',
  regions: ['eu-west-1'],
  findings: [],
  calls: [],
  coverage: [],
  failures: [],
  ...over,
});

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Fleetwarden-Q';
const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Fleetwarden-AuditTable';

describe('diffPosture', () => {
  const baseline = report({
    findings: [
      finding({ check: 'ebs-snapshot', resourceId: 'snap-1' }),
      finding({ check: 'dynamodb-sse', resourceId: TABLE }),
      finding({ check: 'sqs-sse', resourceId: QUEUE }),
      finding({ check: 'log-group-kms', resourceId: 'Fleetwarden-Logs' }),
      finding({ check: 'ebs-volume', resourceId: 'vol-1', region: 'us-east-1' }),
      finding({ check: 'ebs-volume', resourceId: 'vol-ok', status: 'ok' }),
    ],
  });

  it('closes a vanished gap only when this scan listed that kind of resource there, citing the listing', () => {
    const later = report({
      generatedAt: '2026-11-25T12:00:00.000Z',
      coverage: [
        checked('ebs-snapshot', 'DescribeSnapshots', 'snaps-2'),
        // the table was not checked this time (no --table-name)
        {
          check: 'dynamodb-sse',
          region: 'eu-west-1',
          status: 'not-checked',
          found: 0,
          reason: 'no audit table name',
          evidence: [],
        },
        // another --stack-name: the listing did not cover the old queue or log group
        checked('sqs-sse', 'ListQueues', 'list-2', 'Other'),
        checked('log-group-kms', 'DescribeLogGroups', 'logs-2', 'Other'),
      ],
    });
    const diff = diffPosture(baseline, later);
    expect(diff.closed).toEqual([
      {
        before: baseline.findings[0],
        absentFrom: [{ operation: 'DescribeSnapshots', requestId: 'snaps-2' }],
      },
    ]);
    expect(diff.notChecked.map((n) => [n.before.resourceId, n.reason])).toEqual([
      [TABLE, 'no audit table name'],
      [QUEUE, 'this scan listed only names starting with "Other"'],
      ['Fleetwarden-Logs', 'this scan listed only names starting with "Other"'],
      ['vol-1', 'region us-east-1 not scanned'],
    ]);
  });

  it('treats a baseline gap as not checked when the later report has no coverage for it (absent listing call)', () => {
    const diff = diffPosture(baseline, report({ calls: [] }));
    expect(diff.closed).toEqual([]);
    expect(diff.notChecked).toHaveLength(5);
    expect(diff.notChecked[0]?.reason).toBe('this scan did not list ebs-snapshot resources in eu-west-1');
  });

  it('closes a missing table only on a not-found answer for that same table name', () => {
    const later = report({
      coverage: [
        {
          check: 'dynamodb-sse',
          region: 'eu-west-1',
          status: 'not-found',
          scope: 'Fleetwarden-AuditTable',
          found: 0,
          evidence: [{ operation: 'DescribeTable', requestId: 'ddb-nf' }],
        },
      ],
    });
    const diff = diffPosture(baseline, later);
    expect(diff.closed.map((c) => [c.before.resourceId, c.absentFrom])).toEqual([
      [TABLE, [{ operation: 'DescribeTable', requestId: 'ddb-nf' }]],
    ]);
  });

  it('matches a queue gap by account, region and name: a URL-keyed baseline (any host) is the ARN-keyed queue', () => {
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:Fleetwarden-Q';
    const before = report({
      findings: [
        finding({
          check: 'sqs-sse',
          resourceId: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Fleetwarden-Q',
        }),
      ],
    });
    const now = report({
      findings: [finding({ check: 'sqs-sse', resourceId: arn })],
      coverage: [checked('sqs-sse', 'ListQueues', 'q-1', 'Fleetwarden')],
    });
    const diff = diffPosture(before, now);
    expect(diff.closed).toEqual([]);
    expect(diff.opened).toEqual([]);
    expect(diff.stillOpen.map((f) => f.resourceId)).toEqual([arn]);
  });

  it('lists newly opened gaps and gaps still open', () => {
    const later = report({
      findings: [
        finding({
          check: 'ebs-snapshot',
          resourceId: 'snap-1',
          evidence: { operation: 'x', requestId: 'r2' },
        }),
        finding({ check: 'ebs-volume', resourceId: 'vol-ok', detail: 'now unencrypted' }),
        finding({ check: 'ebs-volume', resourceId: 'vol-new' }),
      ],
      coverage: [
        checked('ebs-snapshot', 'DescribeSnapshots', 'r2'),
        checked('ebs-volume', 'DescribeVolumes', 'v2'),
      ],
    });
    const diff = diffPosture(baseline, later);
    expect(diff.opened.map((f) => f.resourceId)).toEqual(['vol-ok', 'vol-new']);
    expect(diff.stillOpen.map((f) => f.resourceId)).toEqual(['snap-1']);
  });
});

describe('renderers', () => {
  const r = report({
    findings: [finding({ check: 'ebs-volume', resourceId: 'vol-1' })],
    calls: [{ operation: 'DescribeVolumes', requestId: 'req-before', region: 'eu-west-1' }],
    coverage: [
      checked('ebs-volume', 'DescribeVolumes', 'req-before'),
      checked('log-group-kms', 'DescribeLogGroups', 'logs-1', 'Nope'),
      {
        check: 'dynamodb-sse',
        region: 'eu-west-1',
        status: 'not-checked',
        found: 0,
        reason: 'no audit table name (--table-name or FLEETWARDEN_AUDIT_TABLE)',
        evidence: [],
      },
    ],
  });

  it('renders JSON that parses back as a baseline, with the diff attached', () => {
    const diff = diffPosture(r, r);
    const json = renderJson(r, diff);
    expect(parseBaseline(json, 'x.json')).toEqual(r);
    expect(JSON.parse(json).diff).toMatchObject({
      closed: [],
      opened: [],
      stillOpen: [{ resourceId: 'vol-1' }],
    });
  });

  it('says in Markdown what was not checked and where nothing was found', () => {
    const md = renderMarkdown(r);
    expect(md).toContain('## Coverage');
    expect(md).toContain(
      '| Log group (KMS) | eu-west-1 | none found (names starting with `Nope`) | DescribeLogGroups `logs-1` |',
    );
    expect(md).toContain(
      '| Audit table (SSE) | eu-west-1 | not checked: no audit table name (--table-name or FLEETWARDEN_AUDIT_TABLE) | - |',
    );
  });

  it('says in Markdown which baseline gaps this scan could not confirm', () => {
    const baseline = report({ findings: [finding({ check: 'sqs-sse', resourceId: QUEUE })] });
    const md = renderMarkdown(r, diffPosture(baseline, r));
    expect(md).toContain('0 closed, 1 new, 0 still open, 1 not checked.');
    expect(md).toContain('### Not checked by this scan');
    expect(md).toContain(
      `| SQS queue (SSE) | eu-west-1 | \`${QUEUE}\` | unencrypted | this scan did not list sqs-sse resources in eu-west-1 |`,
    );
  });
});
