/**
 * Port: the GitHub self-hosted runner registry of one organisation (or repository).
 * Implementations: the Octokit adapter (GitHub App installation token, throttling and retry
 * plugins, every page read) and an in-memory fake with pagination, rate limits and busy runners.
 */
export interface GitHubRunner {
  id: number;
  name: string;
  os: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
}

export interface RunnerRegistry {
  /**
   * Every registered runner, all pages read (per_page 100). Throws `RunnerListingError` if any
   * page fails: callers must never judge anything orphaned from a partial list.
   */
  listRunners(): Promise<GitHubRunner[]>;
  /**
   * Runners with exactly this name (GitHub's `name` query parameter on the list endpoint): one
   * request, not an offset walk over the live list, so a concurrent delete cannot make a runner
   * skip a page. Used to confirm an absence before acting on it. Optional for backward
   * compatibility (callers fall back to a second full listing); both fleetwarden registries have it.
   */
  findRunnersByName?(name: string): Promise<GitHubRunner[]>;
  /**
   * Stop a busy runner from being offered new jobs that ask for its custom labels: replace every
   * custom label with `labels` (GitHub's "set custom labels"; the read-only self-hosted/OS/arch
   * labels stay, so a job asking only for those can still land: the runner-side part is in
   * shared/runners/README.md). The running job is not affected. 'not-found' (404): gone.
   * Optional for backward compatibility; both fleetwarden registries have it.
   */
  cordonRunner?(id: number, labels: readonly string[]): Promise<'cordoned' | 'not-found'>;
  /** One runner by id, or undefined when GitHub answers 404. */
  getRunner(id: number): Promise<GitHubRunner | undefined>;
  /**
   * Remove a runner registration. 'not-found' (404) counts as done. A runner that is running a
   * job makes GitHub answer 422; that surfaces as `RunnerBusyError`, never as success.
   */
  deleteRunner(id: number): Promise<'deleted' | 'not-found'>;
}
