import type { Command } from 'commander';
import { whyUnreadable } from '../../shared/audit/audit-item';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { InvalidAuditRecordError } from '../../shared/audit/errors';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditRecord } from '../../shared/audit/schema';
import { classifySubject, type UnreadableRecord } from '../../shared/audit/store-port';
import type { TrailEvent } from '../../shared/cloudtrail/event';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { LOOKUP_WINDOW_MS, lookupAll } from '../../shared/cloudtrail/port';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { ConfigError } from '../../shared/core/errors';
import type { CliDeps } from '../deps';
import { causeChain, EXIT, isCredentialError, UnknownSubjectError } from '../errors';
import { type CliCommand, setExitCode } from '../program';
import { type ApprovalDecision, fromDecision, proposalIdOf } from '../timeline/approvals';
import { writeTimelineHtml } from '../timeline/html/page';
import { mergeTimeline, renderTable, type TimelineEntry, withinWindow } from '../timeline/merge';
import { closestSubject } from '../timeline/suggest';
import { parseSince, regionFrom, tableFrom } from './options';

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
interface Gathered {
  report: TimelineReport;
  page: Omit<Parameters<typeof writeTimelineHtml>[2], 'notes'> & { notes: string[] };
  /** Sources that could not be read (printed as notes; exit code 7, or 5 for credentials). */
  notRead: NotRead[];
}

/**
 * The audit records of a local file (the simulator's fleetwarden-report/timeline.json, or an
 * export), validated against the schema on load, in an in-memory store; records that do not
 * parse are returned as unreadable, with their id.
 */
export async function loadAuditFile(
  file: string,
  deps: Pick<CliDeps, 'readFile'>,
): Promise<{ store: InMemoryAuditStore; unreadable: UnreadableRecord[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await deps.readFile(file));
  } catch (err) {
    throw new ConfigError(`cannot read audit file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(parsed))
    throw new ConfigError(`audit file ${file} must hold a JSON array of audit records`);
  const store = new InMemoryAuditStore();
  const unreadable: UnreadableRecord[] = [];
  for (const r of parsed) {
    try {
      await store.sink.write(r as AuditRecord);
    } catch (err) {
      if (!(err instanceof InvalidAuditRecordError)) throw err;
      // only those about the subject matter, but an unreadable record cannot say what it is about
      const raw = r as { recordId?: unknown } | null;
      unreadable.push({
        recordId: typeof raw?.recordId === 'string' ? raw.recordId : '<no id>',
        reason: whyUnreadable(r, err),
        error: err,
      });
    }
  }
  return { store, unreadable };
}

/** Offline mode: the audit records of a local file, no AWS call at all. */
async function timelineFromFile(
  subjectArg: string,
  opts: TimelineOptions,
  deps: CliDeps,
  file: string,
): Promise<Gathered> {
  const { store, unreadable } = await loadAuditFile(file, deps);
  const now = new Date(deps.clock.now());
  const since = opts.since === undefined ? undefined : parseSince(opts.since, now, '--since');
  const until = opts.until === undefined ? undefined : parseSince(opts.until, now, '--until');
  const records = await store.timeline(classifySubject(subjectArg), since ? { since } : {});
  deps.stderr.write(`cloudtrail: not consulted (--audit-file ${file})\n`);
  reportUnreadable(unreadable, deps);
  if (records.length === 0) {
    const known = store.sink
      .all()
      .flatMap((r) => [r.subject.instanceId, r.subject.runnerName, r.subject.recordName]);
    const close = closestSubject(
      subjectArg,
      known.filter((k): k is string => k !== undefined),
    );
    throw new UnknownSubjectError(
      `no audit records for "${subjectArg}" in ${file}${close ? `; did you mean ${close}?` : ''}`,
    );
  }
  const entries = withinWindow(mergeTimeline(records, [], unreadable), since, until);
  return {
    report: { subject: subjectArg, source: file, entries },
    page: {
      ...{ subject: subjectArg, records, events: [], unreadable, source: `audit file ${file}` },
      notes: [`CloudTrail: not consulted (--audit-file ${file})`],
    },
    notRead: [],
  };
}

async function timeline(
  subjectArg: string,
  opts: TimelineOptions,
  deps: CliDeps,
  cmd: Command,
): Promise<void> {
  const { report, page, notRead } = await gatherTimeline(subjectArg, opts, deps);
  if (opts.html) await writeTimelineHtml(deps, opts.html, page);
  deps.stdout.write(
    opts.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderTable(subjectArg, report.entries, notRead.map(notReadLine), { wide: opts.wide === true }),
  );
  if (notRead.length > 0)
    setExitCode(cmd, notRead.some((n) => isCredentialError(n.error)) ? EXIT.noCredentials : EXIT.incomplete);
}

/**
 * A subject's timeline from the audit table and CloudTrail (or from `--audit-file`): the data of
 * the command, without printing it (progress and warnings go to deps.stderr).
 */
export async function timelineReport(
  subjectArg: string,
  opts: TimelineOptions,
  deps: CliDeps,
): Promise<TimelineReport> {
  return (await gatherTimeline(subjectArg, opts, deps)).report;
}

async function gatherTimeline(subjectArg: string, opts: TimelineOptions, deps: CliDeps): Promise<Gathered> {
  if (opts.auditFile) return timelineFromFile(subjectArg, opts, deps, opts.auditFile);
  const maxPages = parseMaxPages(opts.maxPages);
  const region = regionFrom(opts.region, deps);
  const tableName = tableFrom(opts.tableName, deps);
  const now = new Date(deps.clock.now());
  const since = parseSince(opts.since ?? '7d', now, '--since');
  const until = opts.until === undefined ? undefined : parseSince(opts.until, now, '--until');
  const subject = classifySubject(subjectArg);

  const audit = await readAudit(subject, tableName, region, since, deps);
  const trail = await readCloudTrail(subjectArg, region, since, until ?? now, maxPages, deps);
  const { records, unreadable } = 'notRead' in audit ? { records: [], unreadable: [] } : audit;
  const events = 'notRead' in trail ? [] : trail.events;
  const found = records.length + unreadable.length + events.length > 0;
  // nothing shown and a source not read: that failure is the answer, never "unknown subject"
  if (!found && 'notRead' in audit) throw audit.notRead.error;
  if (!found && 'notRead' in trail) throw trail.notRead.error;
  if (!found) {
    throw new UnknownSubjectError(
      `no audit records or CloudTrail events for "${subjectArg}" since ${since.toISOString()} (table ${tableName}, ${region})`,
    );
  }
  const approvals = await readDecisions(records, opts, region, deps);
  const decisions = 'notRead' in approvals ? [] : approvals.decisions;
  const entries = withinWindow(mergeTimeline(records, events, unreadable, decisions), since, until);
  const notRead = [audit, trail, approvals].flatMap((x) => ('notRead' in x ? [x.notRead] : []));
  const { error: _a, ...auditJson } = 'notRead' in audit ? audit.notRead : { read: true };
  const { error: _c, ...cloudTrail } = 'notRead' in trail ? trail.notRead : { read: true };
  const window = { since: since.toISOString(), ...(until ? { until: until.toISOString() } : {}) };
  const head = { subject: subjectArg, ...window, region, table: tableName };
  const complete = { auditComplete: !('notRead' in audit), cloudTrailComplete: trail.complete };
  const read = 'notRead' in trail ? 'not read' : `${events.length} events read`;
  return {
    report: { ...head, ...complete, audit: auditJson, cloudTrail, entries },
    page: {
      ...{ subject: subjectArg, records, events, unreadable, source: `audit table ${tableName} (${region})` },
      notes: [
        `CloudTrail: ${read} since ${window.since.replace('.000Z', 'Z')}${trail.complete || 'notRead' in trail ? '' : `; stopped after ${maxPages} pages`}`,
        ...notRead.map(notReadLine),
      ],
    },
    notRead,
  };
}

/** The subject's audit records; a failed read is returned (with its cause chain), not thrown. */
async function readAudit(
  subject: ReturnType<typeof classifySubject>,
  table: string,
  region: string,
  since: Date,
  deps: CliDeps,
): Promise<{ records: AuditRecord[]; unreadable: UnreadableRecord[] } | { notRead: NotRead }> {
  const unreadable: UnreadableRecord[] = [];
  try {
    const records = await new DynamoDbAuditStore(table, deps.aws.dynamodb(region)).timeline(subject, {
      since,
      onUnreadable: (u) => unreadable.push(u),
    });
    reportUnreadable(unreadable, deps);
    return { records, unreadable };
  } catch (error) {
    return { notRead: notReadFrom('audit table', 'Query', table, region, error, deps) };
  }
}

/**
 * The human decisions on the proposals the records mention, from the decisions table when one is
 * named (--decisions-table, $FLEETWARDEN_DECISIONS_TABLE); a failed read is returned, not thrown.
 */
async function readDecisions(
  records: readonly AuditRecord[],
  opts: TimelineOptions,
  region: string,
  deps: CliDeps,
): Promise<{ decisions: ApprovalDecision[] } | { notRead: NotRead }> {
  const table = opts.decisionsTable ?? deps.env.FLEETWARDEN_DECISIONS_TABLE;
  const ids = [...new Set(records.map(proposalIdOf).filter((id): id is string => !!id))];
  if (!table || ids.length === 0) return { decisions: [] };
  try {
    const reader = deps.approvals({ region }).decisions(table);
    const decisions: ApprovalDecision[] = [];
    for (const id of ids) decisions.push(...(await reader.decisions(id)).map(fromDecision));
    return { decisions };
  } catch (error) {
    return { notRead: notReadFrom('decisions table', 'Query', table, region, error, deps) };
  }
}

function notReadFrom(
  source: NotRead['source'],
  call: string,
  what: string,
  region: string,
  error: unknown,
  deps: CliDeps,
): NotRead {
  const causes = causeChain(error);
  const tag = { 'audit table': 'audit', 'decisions table': 'approvals', CloudTrail: 'cloudtrail' }[source];
  deps.stderr.write(
    `${tag}: not read: ${call} ${what} in ${region} failed\n${causes.map((c) => `  caused by: ${c}\n`).join('')}`,
  );
  const target = source === 'CloudTrail' ? { query: what } : { table: what };
  return { source, read: false, call, region, ...target, causes, error };
}

/** A source could not be read: which call, where, and the whole cause chain (outermost first). */
interface NotRead {
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

type TrailRead = { events: TrailEvent[]; complete: boolean } | { notRead: NotRead; complete: false };

/**
 * The subject's CloudTrail events. A failure (denied, throttled past the retries, an outage, an
 * answer that does not parse) is returned, not thrown: the audit records are still worth showing,
 * and the output says precisely what was not read.
 */
async function readCloudTrail(
  subjectArg: string,
  region: string,
  since: Date,
  now: Date,
  maxPages: number,
  deps: CliDeps,
): Promise<TrailRead> {
  const oldest = now.getTime() - LOOKUP_WINDOW_MS;
  if (since.getTime() < oldest) deps.stderr.write('cloudtrail: only the last 90 days are searchable\n');
  const lookup = new RateLimitedLookup(new LookupEventsAdapter(deps.aws.cloudtrail), { clock: deps.clock });
  const attribute = { key: 'ResourceName', value: subjectArg.trim() } as const;
  try {
    const { events, complete, skipped } = await lookupAll(
      lookup,
      { region, attribute, start: new Date(Math.max(since.getTime(), oldest)), end: now },
      { maxPages, onPage: (n) => deps.stderr.write(`cloudtrail: page ${n} scanned\n`) },
    );
    if (!complete)
      deps.stderr.write(`cloudtrail: stopped after ${maxPages} pages; narrow --since for older events\n`);
    for (const s of skipped) deps.stderr.write(`cloudtrail: skipped event ${s.eventId} (does not parse)\n`);
    return { events, complete };
  } catch (error) {
    const query = `${attribute.key}=${attribute.value}`;
    return {
      notRead: notReadFrom('CloudTrail', 'LookupEvents', query, region, error, deps),
      complete: false,
    };
  }
}

function notReadLine(n: NotRead): string {
  const what = `${n.call} ${n.table ?? n.query} in ${n.region}: ${n.causes.at(-1)}`;
  if (n.source === 'decisions table')
    return `DECISIONS TABLE NOT READ: ${what} (only the decisions executed actions carry are shown)`;
  return n.source === 'CloudTrail'
    ? `CloudTrail NOT READ: ${what} (audit records only; causes not looked up)`
    : `AUDIT TABLE NOT READ: ${what} (CloudTrail events only; the automation's decisions are missing)`;
}

/** CloudTrail pages to scan at most: a whole number from 1 to 100 (50 events each, 2 pages/s). */
function parseMaxPages(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 100)
    throw new ConfigError(`--max-pages ${JSON.stringify(value)} is not a whole number from 1 to 100`);
  return n;
}

function reportUnreadable(unreadable: UnreadableRecord[], deps: CliDeps): void {
  if (unreadable.length === 0) return;
  deps.stderr.write(
    `audit: ${unreadable.length} audit record${unreadable.length === 1 ? '' : 's'} could not be read (newer schema or damaged): ${unreadable
      .map((u) => u.recordId)
      .join(', ')}; upgrade fleetwarden to read ${unreadable.length === 1 ? 'it' : 'them'}\n`,
  );
}

export const command: CliCommand = {
  name: 'timeline',
  register(program: Command, deps: CliDeps) {
    program
      .command('timeline')
      .description(
        'What the automation did to an instance, runner or DNS record, and why: audit records and CloudTrail events, time-ordered, each with its evidence id',
      )
      .argument('<subject>', 'instance id (i-...), runner name or DNS record name')
      .option(
        '--since <when>',
        'start: ISO date/time or age (90m, 12h, 7d); default 7d (everything with --audit-file)',
      )
      .option('--until <when>', 'end: ISO date/time or age (default: now)')
      .option('--wide', 'every evidence id and the full text on each line (default: fits 120 columns)')
      .option('--json', 'machine-readable output')
      .option('--table-name <name>', 'audit table (default: $FLEETWARDEN_AUDIT_TABLE)')
      .option(
        '--decisions-table <name>',
        "approvals' decisions table, for every decision on the proposals shown (default: $FLEETWARDEN_DECISIONS_TABLE; without it, the decisions executed actions carry)",
      )
      .option('--region <region>', 'AWS region (default: $AWS_REGION)')
      .option('--max-pages <n>', 'CloudTrail pages to scan at most, 1-100 (50 events each)', '10')
      .option(
        '--audit-file <path>',
        'read audit records from a local JSON file (e.g. fleetwarden-report/timeline.json) instead of AWS',
      )
      .option('--html <file>', 'also write the swimlane page (one self-contained HTML file) to <file>')
      .action(async (subject: string, opts: TimelineOptions, cmd: Command) =>
        timeline(subject, opts, deps, cmd),
      );
  },
};
