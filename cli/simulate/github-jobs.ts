/**
 * The simulated GitHub's job queue. GitHub gives a queued job only to an online runner that is not
 * busy and whose labels include every label of the job's `runs-on` (labels match whatever their
 * case; a runner may carry more); one job at a time per runner. A job no such runner takes stays
 * queued until one is idle, and a job queued for 24 h is cancelled (GitHub, "Usage limits for
 * self-hosted runners": at least 24 h, up to 48 h). A cordoned runner (its custom labels replaced
 * by runner-drain) matches no job that asks for the workload label, so it takes no new work.
 * Which idle runner GitHub picks is not documented: the job's preferred runner (the one whose
 * instance's workload queued it) when it is an idle match, else the first idle match in the list.
 */
import type { GitHubRunner } from '../../shared/github/port';

/** The custom label the fleet's runners register with and the workflows' jobs ask for. */
export const WORKLOAD_LABEL = 'fleet-ci';
/** What a simulated workflow job runs on (`runs-on`). */
export const JOB_LABELS = ['self-hosted', 'linux', WORKLOAD_LABEL];
/** GitHub cancels a self-hosted job queued this long. */
export const JOB_QUEUE_LIMIT_MS = 24 * 3_600_000;

export interface QueuedJob {
  id: number;
  labels: readonly string[];
  queuedAt: number;
  /** The runner to give it to when that one is an idle match (the simulator's own choice). */
  prefer?: number;
}

/** Whether the runner's labels include every label the job asks for (case-insensitive). */
export function labelsMatch(runner: Pick<GitHubRunner, 'labels'>, labels: readonly string[]): boolean {
  const has = new Set(runner.labels.map((l) => l.toLowerCase()));
  return labels.every((l) => has.has(l.toLowerCase()));
}

export class SimJobQueue {
  private readonly queued: QueuedJob[] = [];

  constructor(private readonly registry: { snapshot(): GitHubRunner[] }) {}

  /** The jobs still queued, oldest first. */
  get pending(): readonly QueuedJob[] {
    return [...this.queued];
  }

  /** How many jobs are queued. */
  get size(): number {
    return this.queued.length;
  }

  enqueue(job: QueuedJob): void {
    this.queued.push(job);
  }

  /**
   * Give each queued job, oldest first, to an idle online runner with its labels (one job per
   * runner), at most `max` of them; `usable` says which runners the caller can run a job on. The
   * given jobs leave the queue.
   */
  assign(
    usable: (r: GitHubRunner) => boolean = () => true,
    max = Number.POSITIVE_INFINITY,
  ): Array<{ job: QueuedJob; runner: GitHubRunner }> {
    if (this.queued.length === 0) return [];
    const idle = this.registry.snapshot().filter((r) => r.status === 'online' && !r.busy && usable(r));
    const given: Array<{ job: QueuedJob; runner: GitHubRunner }> = [];
    for (const job of [...this.queued]) {
      if (given.length >= max) break;
      const fits = idle.filter((r) => labelsMatch(r, job.labels));
      const runner = fits.find((r) => r.id === job.prefer) ?? fits[0];
      if (!runner) continue;
      idle.splice(idle.indexOf(runner), 1);
      this.queued.splice(this.queued.indexOf(job), 1);
      given.push({ job, runner });
    }
    return given;
  }

  /** The jobs queued for JOB_QUEUE_LIMIT_MS by `now`: cancelled, they leave the queue. */
  expire(now: number): QueuedJob[] {
    const gone = this.queued.filter((j) => now - j.queuedAt >= JOB_QUEUE_LIMIT_MS);
    for (const j of gone) this.queued.splice(this.queued.indexOf(j), 1);
    return gone;
  }
}
