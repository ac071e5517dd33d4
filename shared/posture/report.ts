import { ConfigError } from '../core/errors';
import type { Coverage, Finding, PostureReport } from './finding';
import { PostureReportSchema } from './finding';

export interface PostureDiff {
  baselineGeneratedAt: string;
  /**
   * Gaps in the baseline that are now ok (`now`, with the proving call) or whose resource is gone
   * (`absentFrom`: the listing calls of this scan, which covered that kind of resource in that region
   * and name scope, and did not return it).
   */
  closed: { before: Finding; now?: Finding; absentFrom?: { operation: string; requestId: string }[] }[];
  /** Gaps that were not gaps (or did not exist) in the baseline. */
  opened: Finding[];
  stillOpen: Finding[];
  /**
   * Baseline gaps this scan says nothing about (region not scanned, check skipped, another name
   * prefix or table): neither closed nor open. Never reported as closed without evidence.
   */
  notChecked: { before: Finding; reason: string }[];
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

/** The name a prefix-scoped listing matched on: a log group's name, a queue's name (ARN or URL). */
function listedName(f: Finding): string {
  return f.check === 'sqs-sse' ? (f.resourceId.split(/[/:]/).at(-1) ?? f.resourceId) : f.resourceId;
}

/**
 * What identifies a finding's resource across scans. A queue is its account and name in the
 * region, whether the report holds its ARN or (reports before ARNs) a URL on any endpoint host:
 * the same queue seen through another host is never "closed" plus a new gap.
 */
function identity(f: Finding): string {
  if (f.check !== 'sqs-sse') return f.key;
  const arn = /^arn:[^:]+:sqs:[^:]*:([^:]+):(.+)$/.exec(f.resourceId);
  if (arn) return `sqs-sse:${f.region}:${arn[1]}/${arn[2]}`;
  const path = f.resourceId
    .replace(/^[a-z]+:\/\/[^/]+/, '')
    .split('/')
    .filter(Boolean);
  return path.length >= 2 ? `sqs-sse:${f.region}:${path.at(-2)}/${path.at(-1)}` : f.key;
}

/** A table finding's table name (its id is the ARN, or the name when DescribeTable gave no ARN). */
function tableName(f: Finding): string {
  return f.resourceId.includes(':table/') ? (f.resourceId.split(':table/')[1] ?? f.resourceId) : f.resourceId;
}

/** Why this scan cannot say anything about `f` (undefined: it covered it, so absence is evidence). */
function notCoveredReason(f: Finding, current: PostureReport): string | undefined {
  if (!current.regions.includes(f.region)) return `region ${f.region} not scanned`;
  const c = current.coverage.find((x) => x.check === f.check && x.region === f.region);
  if (!c) return `this scan did not list ${f.check} resources in ${f.region}`;
  if (c.status === 'not-checked') return c.reason ?? `${f.check} not checked in ${f.region}`;
  if ((f.check === 'log-group-kms' || f.check === 'sqs-sse') && c.scope !== undefined) {
    if (!listedName(f).startsWith(c.scope)) return `this scan listed only names starting with "${c.scope}"`;
  }
  if (f.check === 'dynamodb-sse' && c.scope !== undefined && c.scope !== tableName(f))
    return `this scan looked for table ${c.scope}, not ${tableName(f)}`;
  return undefined;
}

export function diffPosture(baseline: PostureReport, current: PostureReport): PostureDiff {
  const now = new Map(current.findings.map((f) => [identity(f), f]));
  const before = new Map(baseline.findings.map((f) => [identity(f), f]));
  const closed: PostureDiff['closed'] = [];
  const notChecked: PostureDiff['notChecked'] = [];
  for (const f of baseline.findings) {
    if (f.status !== 'gap') continue;
    const later = now.get(identity(f));
    if (later) {
      if (later.status === 'ok') closed.push({ before: f, now: later });
      continue;
    }
    const reason = notCoveredReason(f, current);
    if (reason !== undefined) {
      notChecked.push({ before: f, reason });
      continue;
    }
    const c = current.coverage.find((x) => x.check === f.check && x.region === f.region);
    closed.push({ before: f, absentFrom: c?.evidence ?? [] });
  }
  const gaps = current.findings.filter((f) => f.status === 'gap');
  return {
    baselineGeneratedAt: baseline.generatedAt,
    closed,
    opened: gaps.filter((f) => before.get(identity(f))?.status !== 'gap'),
    stillOpen: gaps.filter((f) => before.get(identity(f))?.status === 'gap'),
    notChecked,
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
  const failed = report.failures.length;
  if (failed > 0)
    lines.push(
      `**Incomplete: ${failed} check${failed === 1 ? '' : 's'} not checked** (see Coverage); absence is not evidence there.`,
      '',
    );
  if (diff) {
    lines.push(`## Since baseline (${diff.baselineGeneratedAt})`, '');
    lines.push(
      `${diff.closed.length} closed, ${diff.opened.length} new, ${diff.stillOpen.length} still open` +
        `${diff.notChecked.length > 0 ? `, ${diff.notChecked.length} not checked` : ''}.`,
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
    if (diff.notChecked.length > 0) {
      lines.push(
        '### Not checked by this scan',
        '',
        'Gaps of the baseline this scan did not look at: neither closed nor confirmed open.',
        '',
        '| Check | Region | Resource | Was | Why not checked |',
        '|---|---|---|---|---|',
      );
      for (const n of diff.notChecked) {
        const f = n.before;
        lines.push(
          `| ${CHECK_TITLES[f.check]} | ${f.region} | \`${cell(f.resourceId)}\` | ${cell(f.detail)} | ${cell(n.reason)} |`,
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
  lines.push('## Coverage', '');
  if (report.coverage.length === 0) lines.push('Not recorded (report written before coverage existed).', '');
  else {
    lines.push('| Check | Region | Looked at | Evidence (API request id) |', '|---|---|---|---|');
    for (const c of report.coverage) {
      const evidence = c.evidence.map((e) => `${e.operation} \`${e.requestId}\``).join(', ') || '-';
      lines.push(`| ${CHECK_TITLES[c.check]} | ${c.region} | ${cell(lookedAt(c))} | ${evidence} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function lookedAt(c: Coverage): string {
  if (c.status === 'not-checked') return `not checked: ${c.reason ?? 'skipped'}`;
  if (c.status === 'not-found') return `not found: ${c.reason ?? `no ${c.scope ?? 'resource'}`}`;
  const scope =
    c.scope === undefined
      ? ''
      : c.check === 'dynamodb-sse'
        ? ` (table \`${c.scope}\`)`
        : ` (names starting with \`${c.scope}\`)`;
  return `${c.found === 0 ? 'none found' : `${c.found} checked`}${scope}`;
}

export function renderJson(report: PostureReport, diff?: PostureDiff): string {
  return `${JSON.stringify({ ...report, ...(diff ? { diff } : {}) }, null, 2)}\n`;
}
