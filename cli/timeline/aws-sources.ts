/**
 * The timeline's AWS sources (audit table, CloudTrail, decisions table): loaded only when the
 * timeline is not read from --audit-file, so that path never loads the AWS SDK.
 */
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import type { AuditRecord } from '../../shared/audit/schema';
import { classifySubject, type UnreadableRecord } from '../../shared/audit/store-port';
import type { TrailEvent } from '../../shared/cloudtrail/event';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import { LOOKUP_WINDOW_MS, lookupAll } from '../../shared/cloudtrail/port';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { ConfigError } from '../../shared/core/errors';
import { parseSince, regionFrom, tableFrom } from '../commands/options';
import type { CliDeps } from '../deps';
import { causeChain, UnknownSubjectError } from '../errors';
import { type ApprovalDecision, fromDecision, proposalIdOf } from './approvals';
import { mergeTimeline, withinWindow } from './merge';
import { type Gathered, type NotRead, notReadLine, reportUnreadable, type TimelineOptions } from './sources';

/** The timeline from the audit table and CloudTrail (and the decisions table when one is named). */
export async function gatherFromAws(
  subjectArg: string,
  opts: TimelineOptions,
  deps: CliDeps,
): Promise<Gathered> {
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
    const records = await new DynamoDbAuditStore(table, (await deps.aws()).dynamodb(region)).timeline(
      subject,
      {
        since,
        onUnreadable: (u) => unreadable.push(u),
      },
    );
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
    const reader = (await deps.approvals({ region })).decisions(table);
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
  const { cloudtrail } = await deps.aws();
  const lookup = new RateLimitedLookup(new LookupEventsAdapter(cloudtrail), { clock: deps.clock });
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

/** CloudTrail pages to scan at most: a whole number from 1 to 100 (50 events each, 2 pages/s). */
function parseMaxPages(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 100)
    throw new ConfigError(`--max-pages ${JSON.stringify(value)} is not a whole number from 1 to 100`);
  return n;
}
