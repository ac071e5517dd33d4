/**
 * What the timeline's two paths share (cli/timeline/run.ts: --audit-file; aws-sources.ts: the audit
 * table, CloudTrail and the decisions table): options, the report, and the notes on what was not read.
 * Types and small helpers only, so that the --audit-file path loads nothing of the AWS path.
 */
import type { UnreadableRecord } from '../../shared/audit/store-port';
import type { CliDeps } from '../deps';
import type { writeTimelineHtml } from './html/page';
import type { TimelineEntry } from './merge';

export interface TimelineOptions {
  since?: string;
  until?: string;
  wide?: boolean;
  json?: boolean;
  tableName?: string;
  decisionsTable?: string;
  region?: string;
  maxPages: string;
  auditFile?: string;
  html?: string;
}

/** What a timeline shows: the JSON of `--json`, and what `fleetwarden mcp` answers. */
export type TimelineReport = { subject: string; entries: TimelineEntry[] } & Record<string, unknown>;

/** A timeline with what it was built from (the HTML page draws records and events, not entries). */
export interface Gathered {
  report: TimelineReport;
  page: Omit<Parameters<typeof writeTimelineHtml>[2], 'notes'> & { notes: string[] };
  /** Sources that could not be read (printed as notes; exit code 7, or 5 for credentials). */
  notRead: NotRead[];
}

/** A source could not be read: which call, where, and the whole cause chain (outermost first). */
export interface NotRead {
  source: 'audit table' | 'decisions table' | 'CloudTrail';
  read: false;
  call: string;
  region: string;
  /** The audit table queried, or the CloudTrail lookup attribute. */
  table?: string;
  query?: string;
  causes: string[];
  error: unknown;
}

export function notReadLine(n: NotRead): string {
  const what = `${n.call} ${n.table ?? n.query} in ${n.region}: ${n.causes.at(-1)}`;
  if (n.source === 'decisions table')
    return `DECISIONS TABLE NOT READ: ${what} (only the decisions executed actions carry are shown)`;
  return n.source === 'CloudTrail'
    ? `CloudTrail NOT READ: ${what} (audit records only; causes not looked up)`
    : `AUDIT TABLE NOT READ: ${what} (CloudTrail events only; the automation's decisions are missing)`;
}

export function reportUnreadable(unreadable: UnreadableRecord[], deps: CliDeps): void {
  if (unreadable.length === 0) return;
  deps.stderr.write(
    `audit: ${unreadable.length} audit record${unreadable.length === 1 ? '' : 's'} could not be read (newer schema or damaged): ${unreadable
      .map((u) => u.recordId)
      .join(', ')}; upgrade fleetwarden to read ${unreadable.length === 1 ? 'it' : 'them'}\n`,
  );
}
