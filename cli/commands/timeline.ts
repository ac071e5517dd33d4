import type { Command } from 'commander';
import { whyUnreadable } from '../../shared/audit/audit-item';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { InvalidAuditRecordError } from '../../shared/audit/errors';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditRecord } from '../../shared/audit/schema';
import { classifySubject, type UnreadableRecord } from '../../shared/audit/store-port';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { LOOKUP_WINDOW_MS, lookupAll } from '../../shared/cloudtrail/port';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { ConfigError } from '../../shared/core/errors';
import type { CliDeps } from '../deps';
import { UnknownSubjectError } from '../errors';
import type { CliCommand } from '../program';
import { writeTimelineHtml } from '../timeline/html/page';
import { mergeTimeline, renderTable, type TimelineEntry } from '../timeline/merge';
import { parseSince, regionFrom, tableFrom } from './options';

export interface TimelineOptions {
  since?: string;
  json?: boolean;
  tableName?: string;
  region?: string;
  maxPages: string;
  auditFile?: string;
  html?: string;
}

/** What a timeline shows: the JSON of `--json`, and what `fleetwarden mcp` answers. */
export type TimelineReport = {
  subject: string;
  entries: TimelineEntry[];
} & ({ source: string } | { since: string; region: string; table: string; cloudTrailComplete: boolean });

/** A timeline with what it was built from (the HTML page draws records and events, not entries). */
interface Gathered {
  report: TimelineReport;
  page: Omit<Parameters<typeof writeTimelineHtml>[2], 'notes'> & { notes: string[] };
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
  const since = opts.since === undefined ? undefined : parseSince(opts.since, new Date(deps.clock.now()));
  const records = await store.timeline(classifySubject(subjectArg), since ? { since } : {});
  deps.stderr.write(`cloudtrail: not consulted (--audit-file ${file})\n`);
  reportUnreadable(unreadable, deps);
  if (records.length === 0) throw new UnknownSubjectError(`no audit records for "${subjectArg}" in ${file}`);
  return {
    report: { subject: subjectArg, source: file, entries: mergeTimeline(records, [], unreadable) },
    page: {
      ...{ subject: subjectArg, records, events: [], unreadable, source: `audit file ${file}` },
      notes: [`CloudTrail: not consulted (--audit-file ${file})`],
    },
  };
}

async function timeline(subjectArg: string, opts: TimelineOptions, deps: CliDeps): Promise<void> {
  const { report, page } = await gatherTimeline(subjectArg, opts, deps);
  if (opts.html) await writeTimelineHtml(deps, opts.html, page);
  deps.stdout.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(subjectArg, report.entries),
  );
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
  const since = parseSince(opts.since ?? '7d', now);
  const subject = classifySubject(subjectArg);

  const unreadable: UnreadableRecord[] = [];
  const records = await new DynamoDbAuditStore(tableName, deps.aws.dynamodb(region)).timeline(subject, {
    since,
    onUnreadable: (u) => unreadable.push(u),
  });
  reportUnreadable(unreadable, deps);

  const oldest = now.getTime() - LOOKUP_WINDOW_MS;
  if (since.getTime() < oldest) deps.stderr.write('cloudtrail: only the last 90 days are searchable\n');
  const lookup = new RateLimitedLookup(new LookupEventsAdapter(deps.aws.cloudtrail), { clock: deps.clock });
  const { events, complete, skipped } = await lookupAll(
    lookup,
    {
      region,
      attribute: { key: 'ResourceName', value: subjectArg.trim() },
      start: new Date(Math.max(since.getTime(), oldest)),
      end: now,
    },
    {
      maxPages,
      onPage: (n) => deps.stderr.write(`cloudtrail: page ${n} scanned\n`),
    },
  );
  if (!complete)
    deps.stderr.write(`cloudtrail: stopped after ${maxPages} pages; narrow --since for older events\n`);
  for (const s of skipped) deps.stderr.write(`cloudtrail: skipped event ${s.eventId} (does not parse)\n`);

  if (records.length === 0 && events.length === 0 && unreadable.length === 0) {
    throw new UnknownSubjectError(
      `no audit records or CloudTrail events for "${subjectArg}" since ${since.toISOString()} (table ${tableName}, ${region})`,
    );
  }
  return {
    report: {
      subject: subjectArg,
      since: since.toISOString(),
      region,
      table: tableName,
      cloudTrailComplete: complete,
      entries: mergeTimeline(records, events, unreadable),
    },
    page: {
      ...{ subject: subjectArg, records, events, unreadable, source: `audit table ${tableName} (${region})` },
      notes: [
        `CloudTrail: ${events.length} events read since ${since.toISOString().replace('.000Z', 'Z')}${complete ? '' : `; stopped after ${maxPages} pages`}`,
      ],
    },
  };
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
      .option('--json', 'machine-readable output')
      .option('--table-name <name>', 'audit table (default: $FLEETWARDEN_AUDIT_TABLE)')
      .option('--region <region>', 'AWS region (default: $AWS_REGION)')
      .option('--max-pages <n>', 'CloudTrail pages to scan at most, 1-100 (50 events each)', '10')
      .option(
        '--audit-file <path>',
        'read audit records from a local JSON file (e.g. fleetwarden-report/timeline.json) instead of AWS',
      )
      .option('--html <file>', 'also write the swimlane page (one self-contained HTML file) to <file>')
      .action(async (subject: string, opts: TimelineOptions) => timeline(subject, opts, deps));
  },
};
