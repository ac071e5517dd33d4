import type { AuditRecord } from '../../../shared/audit/schema';
import type { UnreadableRecord } from '../../../shared/audit/store-port';
import type { TrailEvent } from '../../../shared/cloudtrail/event';
import { ConfigError } from '../../../shared/core/errors';
import type { CliDeps } from '../../deps';
import { buildSubjectTimeline } from './model';
import { renderTimelinePage } from './render';

export interface SubjectPageInput {
  subject: string;
  records: AuditRecord[];
  events: TrailEvent[];
  unreadable: UnreadableRecord[];
  /** Where the records come from, e.g. "audit table X (region)". */
  source: string;
  /** What was and was not read (CloudTrail coverage, ...). */
  notes: string[];
}

/** The audit table does not record which messages a DLQ holds, and the Investigator cannot read DLQs. */
export const DLQ_NOT_READ =
  "dead-letter queues: not read (the audit table does not record which messages were dead-lettered; each function's DeadLetter alarm and queue do)";

/**
 * `fleetwarden timeline <subject> --html <file>`: the subject's swimlane page (the renderer the
 * simulator's report uses), written to `file`.
 */
export async function writeTimelineHtml(deps: CliDeps, file: string, input: SubjectPageInput): Promise<void> {
  const html = renderTimelinePage({
    title: 'fleetwarden timeline:',
    titleSubject: input.subject,
    generatedAt: new Date(deps.clock.now()).toISOString(),
    source: input.source,
    notes: [...input.notes, DLQ_NOT_READ],
    subjects: [
      buildSubjectTimeline(input.subject, {
        records: input.records,
        events: input.events,
        unreadable: input.unreadable,
      }),
    ],
  });
  try {
    await deps.writeFile(file, html);
  } catch (err) {
    throw new ConfigError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  deps.stderr.write(`timeline: wrote ${file}\n`);
}
