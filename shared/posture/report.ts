import { ConfigError } from '../core/errors';
import type { Finding, PostureReport } from './finding';
import { PostureReportSchema } from './finding';

export interface PostureDiff {
  baselineGeneratedAt: string;
  /**
   * Gaps in the baseline that are now ok (`now`, with the proving call) or whose resource is gone
   * (`absentFrom`: the listing calls of this scan that no longer returned it).
   */
  closed: { before: Finding; now?: Finding; absentFrom?: { operation: string; requestId: string }[] }[];
  /** Gaps that were not gaps (or did not exist) in the baseline. */
  opened: Finding[];
  stillOpen: Finding[];
}

/** Parse a previous `posture --format json` output; refuses anything else with a clear message. */
export function parseBaseline(text: string, source: string): PostureReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`baseline ${source} is not JSON (expected the output of posture --format json)`, {
      cause: err,
    });
  }
  const parsed = PostureReportSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `baseline ${source} is not a fleetwarden posture report: ${parsed.error.issues[0]?.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/** The call whose answer lists the resources of a check (proof of absence). */
const LISTING_OPERATION: Record<Finding['check'], string> = {
  'ebs-default-encryption': 'GetEbsEncryptionByDefault',
  'ebs-volume': 'DescribeVolumes',
  'ebs-snapshot': 'DescribeSnapshots',
  'log-group-kms': 'DescribeLogGroups',
  'sqs-sse': 'ListQueues',
  'dynamodb-sse': 'DescribeTable',
};

export function diffPosture(baseline: PostureReport, current: PostureReport): PostureDiff {
  const now = new Map(current.findings.map((f) => [f.key, f]));
  const before = new Map(baseline.findings.map((f) => [f.key, f]));
  const scannedRegions = new Set(current.regions);
  const closed: PostureDiff['closed'] = [];
  for (const f of baseline.findings) {
    if (f.status !== 'gap' || !scannedRegions.has(f.region)) continue;
    const later = now.get(f.key);
    if (!later) {
      const operation = LISTING_OPERATION[f.check];
      const absentFrom = current.calls
        .filter((c) => c.operation === operation && c.region === f.region)
        .map(({ operation: op, requestId }) => ({ operation: op, requestId }));
      closed.push({ before: f, absentFrom });
    } else if (later.status === 'ok') closed.push({ before: f, now: later });
  }
  const gaps = current.findings.filter((f) => f.status === 'gap');
  return {
    baselineGeneratedAt: baseline.generatedAt,
    closed,
    opened: gaps.filter((f) => before.get(f.key)?.status !== 'gap'),
    stillOpen: gaps.filter((f) => before.get(f.key)?.status === 'gap'),
  };
}

const CHECK_TITLES: Record<Finding['check'], string> = {
  'ebs-default-encryption': 'EBS encryption by default',
  'ebs-volume': 'EBS volume',
  'ebs-snapshot': 'EBS snapshot',
  'log-group-kms': 'Log group (KMS)',
  'sqs-sse': 'SQS queue (SSE)',
  'dynamodb-sse': 'Audit table (SSE)',
};

const cell = (s: string) => s.replace(/\|/g, '\\|');
const row = (f: Finding) =>
  `| ${CHECK_TITLES[f.check]} | ${f.region} | \`${cell(f.resourceId)}\` | ${cell(f.detail)} | ${f.evidence.operation} \`${f.evidence.requestId}\` |`;
const HEADER = '| Check | Region | Resource | Finding | Evidence (API request id) |\n|---|---|---|---|---|';

export function renderMarkdown(report: PostureReport, diff?: PostureDiff): string {
  const gaps = report.findings.filter((f) => f.status === 'gap');
  const ok = report.findings.filter((f) => f.status === 'ok');
  const lines = [
    '# fleetwarden encryption posture',
    '',
    `Generated ${report.generatedAt} for ${report.regions.join(', ')}: ${report.findings.length} resources checked, ` +
      `**${gaps.length} gap${gaps.length === 1 ? '' : 's'}**, ${ok.length} ok, ${report.calls.length} API calls.`,
    '',
  ];
  if (diff) {
    lines.push(`## Since baseline (${diff.baselineGeneratedAt})`, '');
    lines.push(
      `${diff.closed.length} closed, ${diff.opened.length} new, ${diff.stillOpen.length} still open.`,
      '',
    );
    if (diff.closed.length > 0) {
      lines.push(
        '### Closed',
        '',
        '| Check | Region | Resource | Was | Now | Evidence (API request id) |',
        '|---|---|---|---|---|---|',
      );
      for (const c of diff.closed) {
        const f = c.before;
        const evidence = c.now
          ? `${c.now.evidence.operation} \`${c.now.evidence.requestId}\``
          : `absent from ${(c.absentFrom ?? []).map((a) => `${a.operation} \`${a.requestId}\``).join(', ') || 'this scan'}`;
        lines.push(
          `| ${CHECK_TITLES[f.check]} | ${f.region} | \`${cell(f.resourceId)}\` | ${cell(f.detail)} | ${cell(c.now?.detail ?? 'resource no longer exists')} | ${evidence} |`,
        );
      }
      lines.push('');
    }
    if (diff.opened.length > 0) lines.push('### New gaps', '', HEADER, ...diff.opened.map(row), '');
  }
  lines.push('## Gaps', '');
  lines.push(...(gaps.length > 0 ? [HEADER, ...gaps.map(row)] : ['None.']), '');
  lines.push('## OK', '');
  lines.push(...(ok.length > 0 ? [HEADER, ...ok.map(row)] : ['None.']), '');
  return lines.join('\n');
}

export function renderJson(report: PostureReport, diff?: PostureDiff): string {
  return `${JSON.stringify({ ...report, ...(diff ? { diff } : {}) }, null, 2)}\n`;
}
