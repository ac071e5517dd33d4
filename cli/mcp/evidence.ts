import type { PostureReport } from '../../shared/posture/finding';
import type { TimelineEntry } from '../timeline/merge';

/** The ids an answer is based on, each list in order of first appearance, without repeats. */
export interface Evidence {
  /** Audit record ids (the audit table's key). */
  recordIds: string[];
  /** CloudTrail eventIDs. */
  eventIds: string[];
  /** AWS request ids (x-amzn-RequestId; CloudTrail's requestID). */
  requestIds: string[];
  /** x-github-request-id of GitHub calls. */
  githubRequestIds: string[];
  /** X-GitHub-Delivery of the webhooks behind the records. */
  githubDeliveryIds: string[];
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

/** Every evidence id cited by timeline entries. */
export function evidenceOfEntries(entries: TimelineEntry[]): Evidence {
  const e = entries.map((x) => x.evidence);
  return {
    recordIds: unique(e.map((x) => x.recordId)),
    eventIds: unique(e.map((x) => x.eventId)),
    // a human decision's request ids (STS) count as well
    requestIds: unique([...e.map((x) => x.requestId), ...e.flatMap((x) => x.requestIds ?? [])]),
    githubRequestIds: unique(e.map((x) => x.githubRequestId)),
    githubDeliveryIds: unique(e.map((x) => x.githubDeliveryId)),
  };
}

/** The request id of every call a posture scan made (findings and coverage cite these). */
export function evidenceOfPosture(report: PostureReport): Evidence {
  return {
    recordIds: [],
    eventIds: [],
    requestIds: unique([
      ...report.findings.map((f) => f.evidence.requestId),
      ...report.coverage.flatMap((c) => c.evidence.map((x) => x.requestId)),
      ...report.calls.map((c) => c.requestId),
    ]),
    githubRequestIds: [],
    githubDeliveryIds: [],
  };
}
