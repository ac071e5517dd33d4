import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { isFleetMutatingGitHubRequest } from '../audit/fleet-mutating';
import { ensureIntent, noteGitHubCall } from '../aws/call-recorder';
import { ConfigError, ThrottledError } from '../core/errors';
import { GitHubApiError, RunnerBusyError, RunnerListingError } from './errors';
import type { GitHubRunner, RunnerRegistry } from './port';
import { describeScope, type GitHubScope, runnersRoute } from './scope';
import type { DownScope } from './scoped-app-auth';

export type { GitHubScope } from './scope';

/** Octokit with the plugins fleetwarden relies on: every page, pacing, rate limits, retries of 5xx. */
export const FleetOctokit = Octokit.plugin(paginateRest, throttling, retry);
export type FleetOctokitInstance = InstanceType<typeof FleetOctokit>;

export interface GitHubAppCredentials {
  appId: string | number;
  installationId: string | number;
  privateKey: string;
}

/**
 * A classic personal access token: what enterprise runner routes need (scope
 * manage_runners:enterprise; they take no App installation token, see shared/github/scope.ts).
 * It cannot be down-scoped.
 */
export interface GitHubTokenCredentials {
  token: string;
}

export type GitHubCredentials = GitHubAppCredentials | GitHubTokenCredentials;

export interface FleetOctokitOptions {
  credentials: GitHubCredentials;
  /** Longest wait (s) for a rate-limit reset before failing the call instead. @default 20 */
  maxRateLimitWaitSeconds?: number;
  /** Retries of 5xx answers. @default 2 */
  retries?: number;
  /** Base of the retry backoff in ms (retry n waits base * n^2). @default 1000 */
  retryBaseMs?: number;
  /** Space writes 1 s apart and queue requests as GitHub recommends. @default true */
  pacing?: boolean;
  /** HTTP implementation (tests inject a fake GitHub). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** GitHub Enterprise Server API root. @default https://api.github.com */
  baseUrl?: string;
  /**
   * Down-scope the installation token (a read-only function asks for read): the permissions and
   * `createScopedAppAuth`, passed in so that a function that does not down-scope does not bundle
   * it; App credentials only (a classic token has fixed scopes). @default the installation's
   */
  downScope?: DownScope;
}

/**
 * An Octokit authenticated as a GitHub App installation: @octokit/auth-app signs the app JWT,
 * exchanges it for an installation token (1 h) and renews it before expiry. Rate limits: a wait up to
 * `maxRateLimitWaitSeconds` is taken once (x-ratelimit-reset / retry-after); longer waits fail the
 * call with ThrottledError so the invocation is retried later instead of idling in Lambda.
 */
export function createFleetOctokit(options: FleetOctokitOptions): FleetOctokitInstance {
  const maxWait = options.maxRateLimitWaitSeconds ?? 20;
  const octokit = new FleetOctokit({
    // the App's token exchange goes through this Octokit's request: the same baseUrl (a GHES's)
    ...authOf(options),
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/$/, '') } : {}),
    // retries via the plugin's own state, NOT request.retries: a per-request `retries` makes the
    // plugin retry every failure, 404 and 422 included (a busy runner's DELETE was sent three times)
    ...(options.fetch ? { request: { fetch: options.fetch } } : {}),
    retry: { retries: options.retries ?? 2, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
    throttle: {
      enabled: options.pacing ?? true,
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter <= maxWait,
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter <= maxWait,
    },
  });
  octokit.hook.wrap('request', async (request, opts) => {
    const route = `${opts.method} ${opts.url}`;
    // no intent record, no action (shared/audit/audited-action.ts): the request is never sent
    if (isFleetMutatingGitHubRequest(opts.method, opts.url)) await ensureIntent(`GitHub ${route}`);
    try {
      const res = await request(opts);
      if (!String(opts.url).includes('/access_tokens')) {
        noteGitHubCall({
          method: opts.method,
          route,
          time: new Date().toISOString(),
          status: res.status,
          ...(res.headers['x-github-request-id']
            ? { requestId: String(res.headers['x-github-request-id']) }
            : {}),
        });
      }
      return res;
    } catch (err) {
      const e = err as { status?: number; response?: { headers?: Record<string, string> } };
      const requestId = e.response?.headers?.['x-github-request-id'];
      noteGitHubCall({
        method: opts.method,
        route,
        time: new Date().toISOString(),
        status: e.status ?? 0,
        ...(requestId ? { requestId } : {}),
      });
      throw err;
    }
  });
  return octokit;
}

function authOf(options: FleetOctokitOptions) {
  const c = options.credentials;
  const down = options.downScope;
  if ('token' in c) {
    if (down)
      throw new ConfigError('a classic token cannot be down-scoped: permissions need GitHub App credentials');
    return { auth: c.token };
  }
  const app = { appId: c.appId, privateKey: c.privateKey, installationId: c.installationId };
  if (!down) return { authStrategy: createAppAuth, auth: app };
  return { authStrategy: down.strategy, auth: { ...app, permissions: down.permissions } };
}

interface ApiRunner {
  id: number;
  name: string;
  os: string;
  status: string;
  busy: boolean;
  labels: Array<{ name: string }>;
}

function toRunner(r: ApiRunner): GitHubRunner {
  return {
    id: r.id,
    name: r.name,
    os: r.os,
    status: r.status === 'online' ? 'online' : 'offline',
    busy: r.busy,
    labels: r.labels.map((l) => l.name),
  };
}

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

/**
 * A 403/429 that is a rate limit as ThrottledError. Secondary: retry-after, or GitHub's message naming
 * it (often sent without retry-after: GitHub says wait at least a minute then); primary: remaining 0.
 */
function asThrottled(err: unknown, now = Date.now()): ThrottledError | undefined {
  const e = err as HttpError;
  if (e.status !== 403 && e.status !== 429) return undefined;
  const h = e.response?.headers ?? {};
  if (h['retry-after'] !== undefined || /secondary rate limit/i.test(e.message ?? '')) {
    const wait = h['retry-after'] !== undefined ? Number(h['retry-after']) * 1000 : 60_000;
    return new ThrottledError('GitHub secondary rate limit', wait, { cause: err });
  }
  if (h['x-ratelimit-remaining'] === '0') {
    const reset = Number(h['x-ratelimit-reset']) * 1000;
    return new ThrottledError(
      'GitHub rate limit exhausted',
      Number.isFinite(reset) ? Math.max(0, reset - now) : undefined,
      {
        cause: err,
      },
    );
  }
  return undefined;
}

function apiError(what: string, err: unknown): Error {
  const throttled = asThrottled(err);
  if (throttled) return throttled;
  const e = err as HttpError;
  return new GitHubApiError(
    `${what} failed: ${e.status ?? 'no status'} ${e.message ?? ''}`.trim(),
    e.status,
    {
      cause: err,
    },
  );
}

const BUSY = /running a job/i;

/**
 * The runner registry over GitHub's REST API. Lists read every page (per_page 100) and are deduped
 * by id (offset pagination over a changing list can repeat a runner); any failed page fails the
 * whole listing with RunnerListingError. 404 on get/delete means gone; 422 on delete means busy.
 */
export class OctokitRunnerRegistry implements RunnerRegistry {
  constructor(
    private readonly octokit: FleetOctokitInstance,
    private readonly scope: GitHubScope,
  ) {}

  private get base(): { path: string; params: Record<string, string> } {
    return runnersRoute(this.scope);
  }

  async listRunners(): Promise<GitHubRunner[]> {
    const { path, params } = this.base;
    try {
      const all = (await this.octokit.paginate(`GET ${path}`, { ...params, per_page: 100 })) as ApiRunner[];
      const byId = new Map<number, GitHubRunner>();
      for (const r of all) byId.set(r.id, toRunner(r));
      return [...byId.values()];
    } catch (err) {
      throw new RunnerListingError(
        `listing runners of ${this.describe()} failed; nothing may be judged from it`,
        {
          cause: apiError('GET runners', err),
        },
      );
    }
  }

  async findRunnersByName(name: string): Promise<GitHubRunner[]> {
    const { path, params } = this.base;
    try {
      const all = (await this.octokit.paginate(`GET ${path}`, {
        ...params,
        name,
        per_page: 100,
      })) as ApiRunner[];
      return all.filter((r) => r.name === name).map(toRunner);
    } catch (err) {
      throw new RunnerListingError(`looking up runner "${name}" of ${this.describe()} failed`, {
        cause: apiError('GET runners?name', err),
      });
    }
  }

  async cordonRunner(id: number, labels: readonly string[]): Promise<'cordoned' | 'not-found'> {
    const { path, params } = this.base;
    try {
      await this.octokit.request(`PUT ${path}/{runner_id}/labels`, {
        ...params,
        runner_id: id,
        labels: [...labels],
      });
      return 'cordoned';
    } catch (err) {
      if ((err as HttpError).status === 404) return 'not-found';
      throw apiError(`PUT runner ${id} labels`, err);
    }
  }

  async getRunner(id: number): Promise<GitHubRunner | undefined> {
    const { path, params } = this.base;
    try {
      const res = await this.octokit.request(`GET ${path}/{runner_id}`, { ...params, runner_id: id });
      return toRunner(res.data as ApiRunner);
    } catch (err) {
      if ((err as HttpError).status === 404) return undefined;
      throw apiError(`GET runner ${id}`, err);
    }
  }

  async deleteRunner(id: number): Promise<'deleted' | 'not-found'> {
    const { path, params } = this.base;
    try {
      await this.octokit.request(`DELETE ${path}/{runner_id}`, { ...params, runner_id: id });
      return 'deleted';
    } catch (err) {
      const status = (err as HttpError).status;
      if (status === 404) return 'not-found';
      // GitHub answers 422 "Bad request - Runner "x" is still running a job" for a busy runner; any
      // other 422 is a real failure and must not be read as "busy, skip"
      if (status === 422 && BUSY.test((err as HttpError).message ?? ''))
        throw new RunnerBusyError(id, { cause: err });
      throw apiError(`DELETE runner ${id}`, err);
    }
  }

  private describe(): string {
    return describeScope(this.scope);
  }
}
