import type { Command } from 'commander';
import { whyUnreadable } from '../../shared/audit/audit-item';
import { InvalidAuditRecordError } from '../../shared/audit/errors';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditRecord } from '../../shared/audit/schema';
import { classifySubject, type UnreadableRecord } from '../../shared/audit/store-port';
import { ConfigError } from '../../shared/core/errors';
import { parseSince } from '../commands/options';
import type { CliDeps } from '../deps';
import { EXIT, isCredentialError, UnknownSubjectError } from '../errors';
import { setExitCode } from '../program';
import { mergeTimeline, renderTable, withinWindow } from './merge';
import {
  type Gathered,
  notReadLine,
  reportUnreadable,
  type TimelineOptions,
  type TimelineReport,
} from './sources';
import { closestSubject } from './suggest';

export type { TimelineOptions, TimelineReport } from './sources';

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

/** `fleetwarden timeline`: print the table (or JSON), write the HTML page when asked. */
export async function timeline(
  subjectArg: string,
  opts: TimelineOptions,
  deps: CliDeps,
  cmd: Command,
): Promise<void> {
  const { report, page, notRead } = await gatherTimeline(subjectArg, opts, deps);
  if (opts.html) await (await import('./html/page')).writeTimelineHtml(deps, opts.html, page);
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
  return (await import('./aws-sources')).gatherFromAws(subjectArg, opts, deps);
}
