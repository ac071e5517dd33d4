import { generateKeyPairSync } from 'node:crypto';

/**
 * A fake of api.github.com at the HTTP boundary (a `fetch`), for the Octokit adapter's tests:
 * installation-token exchange (with GitHub's down-scoping: `permissions` no wider than the
 * installation's, and a token that cannot do more than it was given), the runners endpoints of an
 * organisation or of one repository with Link-header offset pagination, 404/422, primary rate limit
 * (403 + x-ratelimit-remaining: 0 + reset), secondary rate limit (403 naming it, no retry-after) and
 * injected 502s. Its answers are held to GitHub's OpenAPI description (fake-github-api.test.ts).
 */
export interface FakeRunner {
  id: number;
  name: string;
  os: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: Array<{ id: number; name: string; type: 'read-only' | 'custom' }>;
}

/** Labels GitHub assigns at registration and that the labels API cannot remove. */
export const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);

let cachedKey: string | undefined;
/** A throwaway RSA key so @octokit/auth-app signs a real JWT in tests. */
export function testPrivateKey(): string {
  cachedKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs1',
    format: 'pem',
  }) as string;
  return cachedKey;
}

export type Permissions = Record<string, 'read' | 'write'>;

const DOCS = 'https://docs.github.com/rest';

export interface FakeGitHubApiOptions {
  /** Serve the runner routes of this repository (`/repos/{owner}/{repo}/...`) instead of the organisation's. */
  repository?: string;
  /**
   * Serve the runner routes of this enterprise (`/enterprises/{enterprise}/...`). GitHub takes no App
   * installation token there (403 "Resource not accessible by integration"; shared/github/scope.ts):
   * only the classic token (`classicToken`, scope manage_runners:enterprise).
   */
  enterprise?: string;
  /** The REST root it answers at (a GHES: `https://<host>/api/v3`). @default https://api.github.com */
  baseUrl?: string;
  /** What the App installation was granted. @default the runner permission of the scope: write, metadata: read */
  installationPermissions?: Permissions;
}

export class FakeGitHubApi {
  readonly runners: FakeRunner[] = [];
  /** Every request: `path` relative to the REST root (query included), `url` as sent. */
  readonly requests: Array<{ method: string; path: string; url: string; authorization: string | null }> = [];
  /** A classic personal access token with the manage_runners:enterprise scope. */
  readonly classicToken = 'ghp_fake_classic_manage_runners_enterprise';
  private readonly root: URL;
  /** Every installation-token request, with the permissions it asked for (if any). */
  readonly tokenRequests: Array<{ installationId: number; permissions?: Permissions }> = [];
  private readonly tokens = new Map<string, Permissions>();
  private nextId = 1;
  failNext = 0;
  rateLimited = false;
  /** Answer 403 "You have exceeded a secondary rate limit" (no retry-after, primary budget left). */
  secondaryRateLimited = false;
  tokenExchanges = 0;
  /** The installation permission the runner routes need: organisation or repository scope. */
  readonly runnerPermission: string;
  private readonly base: string;
  private readonly installation: Permissions;
  /** The next DELETE answers this instead (e.g. a 422 that is not "still running a job"). */
  nextDeleteAnswer: { status: number; message: string } | undefined;
  /** Run before a list page (1-based) is served: tests change the live list mid-listing. */
  beforePage: ((page: number) => void) | undefined;

  constructor(owner: string, options: FakeGitHubApiOptions = {}) {
    this.base = options.enterprise
      ? `/enterprises/${options.enterprise}/actions/runners`
      : options.repository
        ? `/repos/${owner}/${options.repository}/actions/runners`
        : `/orgs/${owner}/actions/runners`;
    this.root = new URL((options.baseUrl ?? 'https://api.github.com').replace(/\/$/, ''));
    this.runnerPermission = options.repository ? 'administration' : 'organization_self_hosted_runners';
    this.installation = options.installationPermissions ?? {
      [this.runnerPermission]: 'write',
      metadata: 'read',
    };
    if (options.enterprise) this.tokens.set(this.classicToken, { manage_runners_enterprise: 'write' });
    this.enterprise = options.enterprise !== undefined;
  }

  private readonly enterprise: boolean;

  /** The path under the REST root, or undefined for a request to another host or root. */
  private pathOf(url: URL): string | undefined {
    const rootPath = this.root.pathname === '/' ? '' : this.root.pathname;
    if (url.host !== this.root.host || !url.pathname.startsWith(rootPath)) return undefined;
    return url.pathname.slice(rootPath.length) || '/';
  }

  add(r: { name: string; busy?: boolean; status?: 'online' | 'offline'; labels?: string[] }): number {
    const id = this.nextId++;
    this.runners.push({
      id,
      name: r.name,
      os: 'Linux',
      status: r.status ?? 'online',
      busy: r.busy ?? false,
      labels: (r.labels ?? ['self-hosted']).map((name, i) => ({
        id: i + 1,
        name,
        type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom',
      })),
    });
    return id;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    const pathname = this.pathOf(url);
    this.requests.push({
      method,
      path: (pathname ?? url.pathname) + url.search,
      url: url.href,
      authorization: headers.get('authorization'),
    });
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      const res = new Response(status === 204 ? null : JSON.stringify(body), {
        status,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'x-github-request-id': `REQ-${this.requests.length}`,
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': this.rateLimited ? '0' : '4999',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
          ...extra,
        },
      });
      // a real fetch Response carries the URL it answered (Octokit's paginator reads it)
      Object.defineProperty(res, 'url', { value: url.href });
      return res;
    };

    const error = (status: number, message: string, extra: Record<string, string> = {}) =>
      json(status, { message, documentation_url: DOCS, status: String(status) }, extra);
    if (pathname === undefined) return error(404, `Not Found (not this GitHub: ${this.root.href})`);
    const tokenMatch = pathname.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (tokenMatch && method === 'POST') return this.exchange(Number(tokenMatch[1]), init, json, error);
    const token = (headers.get('authorization') ?? '').replace(/^token /, '');
    const granted = this.tokens.get(token);
    if (!granted) return error(401, 'Bad credentials');
    // enterprise runner routes: no GitHub App installation token, whatever its permissions
    if (this.enterprise && pathname.startsWith(this.base) && token !== this.classicToken)
      return error(403, 'Resource not accessible by integration');
    if (this.rateLimited) {
      return json(403, {
        message: 'API rate limit exceeded for installation.',
        documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
      });
    }
    if (this.secondaryRateLimited) {
      return json(403, {
        message:
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID REQ.',
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      });
    }
    if (this.failNext > 0) {
      this.failNext--;
      return json(502, { message: 'Server Error' });
    }
    const need = method === 'GET' ? ['read', 'write'] : ['write'];
    if (
      !this.enterprise &&
      pathname.startsWith(this.base) &&
      !need.includes(granted[this.runnerPermission] ?? '')
    )
      return error(403, 'Resource not accessible by integration');
    const base = this.base;
    if (pathname === base && method === 'GET') {
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const page = Number(url.searchParams.get('page') ?? 1);
      this.beforePage?.(page);
      // GitHub's `name` query parameter: exact runner name
      const name = url.searchParams.get('name');
      const list = name === null ? this.runners : this.runners.filter((r) => r.name === name);
      const slice = list.slice((page - 1) * perPage, page * perPage);
      const last = Math.max(1, Math.ceil(list.length / perPage));
      const q = name === null ? '' : `name=${encodeURIComponent(name)}&`;
      const link = (p: number, rel: string) =>
        `<${this.root.href.replace(/\/$/, '')}${base}?${q}per_page=${perPage}&page=${p}>; rel="${rel}"`;
      const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : [];
      return json(
        200,
        { total_count: list.length, runners: slice },
        links.length ? { link: links.join(', ') } : {},
      );
    }
    const labelsOf = pathname.match(new RegExp(`^${base}/(\\d+)/labels$`));
    if (labelsOf && method === 'PUT') {
      // "Set custom labels": replaces every custom label, read-only ones stay
      const r = this.runners.find((x) => x.id === Number(labelsOf[1]));
      if (!r) return error(404, 'Not Found');
      const names = (JSON.parse(String(init?.body ?? '{}')) as { labels: string[] }).labels;
      const kept = r.labels.filter((l) => l.type === 'read-only');
      r.labels = [...kept, ...names.map((name, i) => ({ id: 100 + i, name, type: 'custom' as const }))];
      return json(200, { total_count: r.labels.length, labels: r.labels });
    }
    const one = pathname.match(new RegExp(`^${base}/(\\d+)$`));
    if (one) {
      const id = Number(one[1]);
      const idx = this.runners.findIndex((r) => r.id === id);
      if (idx < 0) return error(404, 'Not Found');
      if (method === 'GET') return json(200, this.runners[idx]);
      if (method === 'DELETE') {
        const forced = this.nextDeleteAnswer;
        this.nextDeleteAnswer = undefined;
        if (forced) return json(forced.status, { message: forced.message, documentation_url: DOCS });
        if (this.runners[idx]?.busy) {
          return json(422, {
            message: `Bad request - Runner "${this.runners[idx]?.name}" is still running a job"`,
            documentation_url: `${DOCS}/actions/self-hosted-runners#delete-a-self-hosted-runner`,
          });
        }
        this.runners.splice(idx, 1);
        return json(204, null);
      }
    }
    return error(404, 'Not Found');
  };

  /** POST /app/installations/{id}/access_tokens: a token with what was asked, never more than granted. */
  private exchange(
    installationId: number,
    init: RequestInit | undefined,
    json: (status: number, body: unknown) => Response,
    error: (status: number, message: string) => Response,
  ): Response {
    this.tokenExchanges++;
    const asked = (init?.body ? JSON.parse(String(init.body)) : {}) as { permissions?: Permissions };
    this.tokenRequests.push({
      installationId,
      ...(asked.permissions ? { permissions: asked.permissions } : {}),
    });
    const rank = { read: 1, write: 2 } as const;
    const wider = Object.entries(asked.permissions ?? {}).filter(
      ([name, level]) => rank[level] > (rank[this.installation[name] as 'read' | 'write'] ?? 0),
    );
    if (wider.length) return error(422, 'The permissions requested are not granted to this installation.');
    const permissions = asked.permissions ?? this.installation;
    const token = asked.permissions
      ? `ghs_fake_scoped_token_${this.tokenExchanges}`
      : 'ghs_fake_installation_token';
    this.tokens.set(token, permissions);
    return json(201, {
      token,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      permissions,
      repository_selection: 'all',
    });
  }
}
