import { describe, expect, it } from 'vitest';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { JOB_LABELS, JOB_QUEUE_LIMIT_MS, SimJobQueue } from './github-jobs';

/**
 * The simulated GitHub's job queue: a queued job goes only to an idle online runner whose labels
 * include every label the job asks for; without one it stays queued until one is idle, or is
 * cancelled once queued for 24 h (GitHub, "Usage limits for self-hosted runners").
 */
function setup() {
  const registry = new InMemoryRunnerRegistry();
  const queue = new SimJobQueue(registry);
  const runner = (name: string, labels: string[] = JOB_LABELS) => registry.register({ name, labels });
  return { registry, queue, runner };
}

describe('SimJobQueue', () => {
  it('gives a queued job to an idle online runner with matching labels', () => {
    const { queue, runner } = setup();
    const r = runner('ci-a');
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    expect(queue.assign().map((a) => [a.job.id, a.runner.id])).toEqual([[1, r.id]]);
    expect(queue.pending).toEqual([]);
  });

  it('never to a busy runner: the job stays queued until the runner is idle', () => {
    const { queue, registry, runner } = setup();
    const r = runner('ci-a');
    registry.setBusy(r.id, true);
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    expect(queue.assign()).toEqual([]);
    expect(queue.pending.map((j) => j.id)).toEqual([1]);
    registry.setBusy(r.id, false);
    expect(queue.assign().map((a) => a.runner.id)).toEqual([r.id]);
  });

  it('never to an offline runner, nor to one missing a label the job asks for (a cordoned runner)', () => {
    const { queue, registry, runner } = setup();
    const off = runner('ci-off');
    registry.setStatus(off.id, 'offline');
    runner('ci-cordoned', ['self-hosted', 'linux', 'fleetwarden-draining']);
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    expect(queue.assign()).toEqual([]);
    const ok = runner('ci-ok', [...JOB_LABELS.map((l) => l.toUpperCase()), 'fleetwarden-fleet:x']);
    // labels match case-insensitively, and a runner may carry more than the job asks for
    expect(queue.assign().map((a) => a.runner.id)).toEqual([ok.id]);
  });

  it('one job per runner: two queued jobs and one idle runner leave the later job queued', () => {
    const { queue, runner } = setup();
    const r = runner('ci-a');
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    queue.enqueue({ id: 2, labels: JOB_LABELS, queuedAt: 1 });
    expect(queue.assign().map((a) => [a.job.id, a.runner.id])).toEqual([[1, r.id]]);
    expect(queue.pending.map((j) => j.id)).toEqual([2]);
  });

  it('prefers the runner the job names when it is an idle match, else the first idle match', () => {
    const { queue, runner } = setup();
    const a = runner('ci-a');
    const b = runner('ci-b');
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0, prefer: b.id });
    queue.enqueue({ id: 2, labels: JOB_LABELS, queuedAt: 0, prefer: b.id });
    expect(queue.assign().map((x) => [x.job.id, x.runner.id])).toEqual([
      [1, b.id],
      [2, a.id],
    ]);
  });

  it('skips a runner the caller cannot run the job on (its instance is not running)', () => {
    const { queue, runner } = setup();
    const a = runner('ci-a');
    const b = runner('ci-b');
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    expect(queue.assign((r) => r.id !== a.id).map((x) => x.runner.id)).toEqual([b.id]);
  });

  it('cancels a job queued for 24 h with no runner to take it', () => {
    const { queue } = setup();
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    expect(queue.expire(JOB_QUEUE_LIMIT_MS - 1)).toEqual([]);
    expect(queue.expire(JOB_QUEUE_LIMIT_MS).map((j) => j.id)).toEqual([1]);
    expect(queue.pending).toEqual([]);
  });
});

describe('SimJobQueue.assign(usable, max)', () => {
  it('gives at most max jobs, the rest stay queued in order', () => {
    const { queue, runner } = setup();
    runner('ci-a');
    runner('ci-b');
    queue.enqueue({ id: 1, labels: JOB_LABELS, queuedAt: 0 });
    queue.enqueue({ id: 2, labels: JOB_LABELS, queuedAt: 1 });
    expect(queue.assign(undefined, 1).map((a) => a.job.id)).toEqual([1]);
    expect(queue.pending.map((j) => j.id)).toEqual([2]);
  });
});
