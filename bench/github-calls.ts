/**
 * Every GitHub call a bench's functions make, by function: REST requests by kind (list pages,
 * by-name lookups, gets, deletes, label changes), the rate-limited answers among them (GitHub
 * answers 403: a request all the same), and installation-token requests.
 *
 * Tokens are not made by the fakes: @octokit/auth-app caches an installation token per execution
 * environment and renews it before its hour ends, so a function asks for one token per environment
 * per hour in which it calls GitHub. The bench counts both bounds, for the fleet and the naive side
 * alike: at least one per function per hour with a call (a single warm environment), at most one per
 * invocation that calls GitHub (every invocation a cold start).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { InMemoryRunnerRegistry } from '../shared/github/in-memory-runner-registry';
import type { GitHubRunner } from '../shared/github/port';

/** auth-app renews a token a minute before its hour is up. */
const TOKEN_RENEWAL_MS = 59 * 60_000;

type CallKind = 'listPages' | 'byName' | 'get' | 'delete' | 'cordon';
const KINDS: readonly CallKind[] = ['listPages', 'byName', 'get', 'delete', 'cordon'];

export interface GitHubTally extends Record<CallKind, number> {
  /** Every REST request, rate-limited answers included (tokens apart). */
  requests: number;
  rateLimited: number;
  /** Invocations that called GitHub at least once: the upper bound of token requests. */
  invocations: number;
  /** One token per hour in which the function calls GitHub: the lower bound of token requests. */
  tokensHourly: number;
}

const emptyTally = (): GitHubTally => ({
  requests: 0,
  rateLimited: 0,
  listPages: 0,
  byName: 0,
  get: 0,
  delete: 0,
  cordon: 0,
  invocations: 0,
  tokensHourly: 0,
});

/** Who is calling: the function, its invocation (unique per invocation) and the simulated time. */
export interface Caller {
  fn: string;
  invocation: number;
  now: number;
}

export class GitHubLedger {
  readonly byFunction = new Map<string, GitHubTally>();
  private readonly lastToken = new Map<string, number>();
  private readonly invocationsSeen = new Set<string>();

  tally(fn: string): GitHubTally {
    let t = this.byFunction.get(fn);
    if (!t) {
      t = emptyTally();
      this.byFunction.set(fn, t);
    }
    return t;
  }

  /** Add one port call's requests (`diff`: the registry's counters after minus before). */
  record(who: Caller, diff: Record<CallKind, number>, rateLimited: number): void {
    const requests = KINDS.reduce((n, k) => n + diff[k], 0) + rateLimited;
    if (requests === 0) return;
    const t = this.tally(who.fn);
    for (const k of KINDS) t[k] += diff[k];
    t.rateLimited += rateLimited;
    t.requests += requests;
    const key = `${who.fn}#${who.invocation}`;
    if (!this.invocationsSeen.has(key)) {
      this.invocationsSeen.add(key);
      t.invocations++;
    }
    const last = this.lastToken.get(who.fn);
    if (last === undefined || who.now - last >= TOKEN_RENEWAL_MS) {
      this.lastToken.set(who.fn, who.now);
      t.tokensHourly++;
    }
  }

  /** All functions together. */
  total(only?: (fn: string) => boolean): GitHubTally {
    const sum = emptyTally();
    for (const [fn, t] of this.byFunction) {
      if (only && !only(fn)) continue;
      for (const k of Object.keys(sum) as (keyof GitHubTally)[]) sum[k] += t[k];
    }
    return sum;
  }
}

type Counted = InMemoryRunnerRegistry & { rateLimited?: number };
const PORT_METHODS = [
  'listRunners',
  'findRunnersByName',
  'getRunner',
  'deleteRunner',
  'cordonRunner',
] as const;

/**
 * Wrap the registry's port methods so each request goes to the tally of the caller it was made for.
 * Every counter increment is attributed when it happens, to the caller of the port call in whose
 * async context it runs (AsyncLocalStorage): calls that overlap in time (two invocations awaiting
 * the registry at once) are counted once each, not once per overlapping diff. A rate-limited
 * answer is counted from the registry's own counter (`rateLimited`, the simulator's registry) or,
 * for a plain fake, from the ThrottledError the outermost call threw.
 */
export function instrumentRegistry(registry: Counted, ledger: GitHubLedger, who: () => Caller): void {
  const current = new AsyncLocalStorage<Caller>();
  const none = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<CallKind, number>;
  const attribute = (kind: CallKind | 'rateLimited', n: number) => {
    const caller = current.getStore();
    if (!caller || n <= 0) return;
    if (kind === 'rateLimited') ledger.record(caller, none, n);
    else ledger.record(caller, { ...none, [kind]: n }, 0);
  };
  const counters = registry.calls as Record<CallKind, number>;
  Object.defineProperty(registry, 'calls', {
    value: new Proxy(counters, {
      set(target, key, value: number) {
        const k = key as CallKind;
        if (KINDS.includes(k)) attribute(k, value - target[k]);
        target[k] = value;
        return true;
      },
    }),
  });
  const counted = registry.rateLimited !== undefined;
  if (counted) {
    let limited = registry.rateLimited ?? 0;
    Object.defineProperty(registry, 'rateLimited', {
      get: () => limited,
      set: (value: number) => {
        attribute('rateLimited', value - limited);
        limited = value;
      },
    });
  }
  for (const method of PORT_METHODS) {
    const original = (registry[method] as (...a: unknown[]) => Promise<unknown>).bind(registry);
    (registry as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const outer = current.getStore();
      const caller = outer ?? who();
      return current.run(caller, async () => {
        try {
          return await original(...args);
        } catch (err) {
          if (!counted && !outer && isRateLimited(err)) ledger.record(caller, none, 1);
          throw err;
        }
      });
    };
  }
}

function isRateLimited(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string } } | undefined;
  return e?.name === 'ThrottledError' || e?.cause?.name === 'ThrottledError';
}

/**
 * The naive runner-job-watch, run for real: on every workflow_job event it lists every runner of
 * the organisation (the fleet's job-watch looks up the one runner the event names). It lists a
 * registry of its own (its own installation's rate limit, the same page size), kept equal to the
 * simulator's registry before each listing, so it pages exactly as GitHub would have paged it.
 */
export class NaiveRunnerListing {
  readonly registry: InMemoryRunnerRegistry;
  private readonly ids = new Map<string, number>();

  constructor(options: { perPage: number; rateLimit: number; rateWindowMs: number; now: () => number }) {
    this.registry = new InMemoryRunnerRegistry(options);
  }

  /** One event: mirror the live runners, then list them all (a rate-limited listing is counted, not thrown). */
  async onEvent(live: readonly GitHubRunner[]): Promise<void> {
    const names = new Set(live.map((r) => r.name));
    for (const [name, id] of this.ids) {
      if (names.has(name)) continue;
      this.registry.unregister(id);
      this.ids.delete(name);
    }
    for (const r of live) {
      if (!this.ids.has(r.name)) this.ids.set(r.name, this.registry.register(r).id);
    }
    try {
      await this.registry.listRunners();
    } catch (err) {
      if (!isRateLimited(err)) throw err;
    }
  }
}
