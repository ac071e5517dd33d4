import { ThrottledError } from '../core/errors';
import { RunnerBusyError, RunnerListingError } from './errors';
import type { GitHubRunner, RunnerRegistry } from './port';
import { describeScope, type GitHubScope } from './scope';

/** Labels GitHub assigns at registration and that the labels API cannot remove. */
const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);

export interface InMemoryRunnerRegistryOptions {
  /** Runners per list page; GitHub's maximum is 100. @default 100 */
  perPage?: number;
  /** Requests allowed per rate-limit window (installation tokens: 5,000/h). @default 5000 */
  rateLimit?: number;
  /** Length of the rate-limit window in ms. @default 3_600_000 */
  rateWindowMs?: number;
  /** Clock (ms since epoch); the simulator passes its simulated clock. @default Date.now */
  now?: () => number;
  /** The organisation, repository or enterprise it stands for (named in its errors). @default organisation fleet */
  scope?: GitHubScope;
}

/**
 * In-memory fake of the GitHub runner registry, modelling what the adapter must cope with:
 * - offset pagination over the LIVE list (per_page <= 100): a removal while a listing is under way
 *   shifts later runners one page up, so a runner can be missed; the same runner can be seen twice
 *   after an insertion. Callers must never judge a runner orphaned from absence alone;
 * - a primary rate limit (remaining/reset): once spent, every call fails with `ThrottledError`
 *   carrying the ms until reset (a listing wraps it in `RunnerListingError`); a secondary rate
 *   limit on demand (`hitSecondaryRateLimit`), also a `ThrottledError`;
 * - injected page failures -> `RunnerListingError` (never a partial list);
 * - DELETE of a busy runner -> `RunnerBusyError` (GitHub answers 422); unknown id -> 'not-found'.
 */
export class InMemoryRunnerRegistry implements RunnerRegistry {
  readonly calls = { listPages: 0, byName: 0, get: 0, delete: 0, cordon: 0 };
  private readonly runnersById = new Map<number, GitHubRunner>();
  /** The live list in GitHub's order, rebuilt only after a runner comes or goes (not per page). */
  private ordered: GitHubRunner[] | undefined;
  private nextId = 1;
  private failPages = 0;
  private windowStart: number;
  private used = 0;
  private secondaryUntil = 0;
  private readonly perPage: number;
  private readonly rateLimit: number;
  private readonly rateWindowMs: number;
  private readonly now: () => number;
  private readonly scopeName: string;
  /** Runners deleted through the API, in order (the simulator checks none of them was busy). */
  readonly deleted: GitHubRunner[] = [];
  /** Hook run before each list page is served (tests use it to change the list mid-listing). */
  beforeListPage: ((page: number) => void) | undefined;

  constructor(options: InMemoryRunnerRegistryOptions = {}) {
    this.perPage = options.perPage ?? 100;
    if (this.perPage < 1 || this.perPage > 100)
      throw new RangeError(`perPage must be 1-100, got ${this.perPage}`);
    this.rateLimit = options.rateLimit ?? 5000;
    this.rateWindowMs = options.rateWindowMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    this.scopeName = describeScope(options.scope ?? { owner: 'fleet' });
    this.windowStart = this.now();
  }

  // ---- test and simulator controls -------------------------------------------------------------

  register(runner: {
    name: string;
    labels?: string[];
    busy?: boolean;
    status?: 'online' | 'offline';
    os?: string;
  }) {
    const r: GitHubRunner = {
      id: this.nextId++,
      name: runner.name,
      os: runner.os ?? 'Linux',
      status: runner.status ?? 'online',
      busy: runner.busy ?? false,
      labels: runner.labels ?? ['self-hosted'],
    };
    this.runnersById.set(r.id, r);
    this.ordered = undefined;
    return { ...r };
  }

  setBusy(id: number, busy: boolean): void {
    const r = this.mustGet(id);
    r.busy = busy;
  }

  setStatus(id: number, status: 'online' | 'offline'): void {
    this.mustGet(id).status = status;
  }

  /** GitHub itself removed the runner (ephemeral runner finished, 14-day offline cleanup). */
  unregister(id: number): void {
    this.runnersById.delete(id);
    this.ordered = undefined;
  }

  /** The next `n` list pages fail (as a 502 would). */
  failNextListPage(n = 1): void {
    this.failPages += n;
  }

  /**
   * GitHub's secondary rate limit (too many concurrent or too fast requests): every call is refused
   * for the next `ms` (GitHub: without retry-after, wait at least a minute), whatever budget is left.
   */
  hitSecondaryRateLimit(ms = 60_000): void {
    this.secondaryUntil = this.now() + ms;
  }

  /** Spend the rest of the current rate-limit window. */
  exhaustRateLimit(): void {
    this.used = this.rateLimit;
  }

  snapshot(): GitHubRunner[] {
    return [...this.runnersById.values()].map((r) => ({ ...r, labels: [...r.labels] }));
  }

  findByName(name: string): GitHubRunner | undefined {
    return this.snapshot().find((r) => r.name === name);
  }

  // ---- the port ----------------------------------------------------------------------------------

  async listRunners(): Promise<GitHubRunner[]> {
    const seen = new Map<number, GitHubRunner>();
    for (let page = 0; ; page++) {
      this.beforeListPage?.(page);
      try {
        this.spend();
      } catch (err) {
        throw new RunnerListingError(
          `listing runners of ${this.scopeName} stopped at page ${page + 1}: rate limited`,
          {
            cause: err,
          },
        );
      }
      this.calls.listPages++;
      if (this.failPages > 0) {
        this.failPages--;
        throw new RunnerListingError(
          `listing runners of ${this.scopeName} failed at page ${page + 1}: HTTP 502`,
        );
      }
      this.ordered ??= [...this.runnersById.values()];
      const all = this.ordered;
      const slice = all.slice(page * this.perPage, (page + 1) * this.perPage);
      for (const r of slice) seen.set(r.id, { ...r, labels: [...r.labels] });
      if ((page + 1) * this.perPage >= all.length) return [...seen.values()];
    }
  }

  /** `?name=`: one request, filtered server-side, immune to the offset shifts of a full listing. */
  async findRunnersByName(name: string): Promise<GitHubRunner[]> {
    try {
      this.spend();
    } catch (err) {
      throw new RunnerListingError(`looking up runner "${name}" of ${this.scopeName}: rate limited`, {
        cause: err,
      });
    }
    this.calls.byName++;
    if (this.failPages > 0) {
      this.failPages--;
      throw new RunnerListingError(`looking up runner "${name}" of ${this.scopeName} failed: HTTP 502`);
    }
    return [...this.runnersById.values()]
      .filter((r) => r.name === name)
      .map((r) => ({ ...r, labels: [...r.labels] }));
  }

  /** "Set custom labels": every custom label replaced, the read-only ones (self-hosted, OS, arch) kept. */
  async cordonRunner(id: number, labels: readonly string[]): Promise<'cordoned' | 'not-found'> {
    this.spend();
    this.calls.cordon++;
    const r = this.runnersById.get(id);
    if (!r) return 'not-found';
    r.labels = [...r.labels.filter((l) => READ_ONLY_LABELS.has(l.toLowerCase())), ...labels];
    return 'cordoned';
  }

  async getRunner(id: number): Promise<GitHubRunner | undefined> {
    this.spend();
    this.calls.get++;
    const r = this.runnersById.get(id);
    return r ? { ...r, labels: [...r.labels] } : undefined;
  }

  async deleteRunner(id: number): Promise<'deleted' | 'not-found'> {
    this.spend();
    this.calls.delete++;
    const r = this.runnersById.get(id);
    if (!r) return 'not-found';
    if (r.busy) throw new RunnerBusyError(id);
    this.runnersById.delete(id);
    this.ordered = undefined;
    this.deleted.push({ ...r });
    return 'deleted';
  }

  private spend(): void {
    const now = this.now();
    if (now < this.secondaryUntil)
      throw new ThrottledError('GitHub secondary rate limit', this.secondaryUntil - now);
    if (now - this.windowStart >= this.rateWindowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.rateLimit) {
      const retryAfterMs = this.windowStart + this.rateWindowMs - now;
      throw new ThrottledError(
        `GitHub rate limit exhausted; resets in ${Math.ceil(retryAfterMs / 1000)} s`,
        retryAfterMs,
      );
    }
    this.used++;
  }

  private mustGet(id: number): GitHubRunner {
    const r = this.runnersById.get(id);
    if (!r) throw new Error(`no runner ${id} in the fake registry`);
    return r;
  }
}
