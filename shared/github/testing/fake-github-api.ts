import { generateKeyPairSync } from 'node:crypto';

/**
 * A fake of api.github.com at the HTTP boundary (a `fetch`), for the Octokit adapter's tests:
 * installation-token exchange, the runners endpoints with Link-header offset pagination, 404/422,
 * primary rate limit (403 + x-ratelimit-remaining: 0 + reset) and injected 502s.
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

export class FakeGitHubApi {
  readonly runners: FakeRunner[] = [];
  readonly requests: Array<{ method: string; path: string; authorization: string | null }> = [];
  private nextId = 1;
  failNext = 0;
  rateLimited = false;
  tokenExchanges = 0;
  /** The next DELETE answers this instead (e.g. a 422 that is not "still running a job"). */
  nextDeleteAnswer: { status: number; message: string } | undefined;
  /** Run before a list page (1-based) is served: tests change the live list mid-listing. */
  beforePage: ((page: number) => void) | undefined;

  constructor(private readonly owner: string) {}

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
    this.requests.push({
      method,
      path: url.pathname + url.search,
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

    const tokenMatch = url.pathname.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (tokenMatch && method === 'POST') {
      this.tokenExchanges++;
      return json(201, {
        token: 'ghs_fake_installation_token',
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        permissions: { organization_self_hosted_runners: 'write' },
        repository_selection: 'all',
      });
    }
    if (this.rateLimited) {
      return json(403, {
        message: 'API rate limit exceeded for installation.',
        documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
      });
    }
    if (this.failNext > 0) {
      this.failNext--;
      return json(502, { message: 'Server Error' });
    }
    const base = `/orgs/${this.owner}/actions/runners`;
    if (url.pathname === base && method === 'GET') {
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
        `<https://api.github.com${base}?${q}per_page=${perPage}&page=${p}>; rel="${rel}"`;
      const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : [];
      return json(
        200,
        { total_count: list.length, runners: slice },
        links.length ? { link: links.join(', ') } : {},
      );
    }
    const labelsOf = url.pathname.match(new RegExp(`^${base}/(\\d+)/labels$`));
    if (labelsOf && method === 'PUT') {
      // "Set custom labels": replaces every custom label, read-only ones stay
      const r = this.runners.find((x) => x.id === Number(labelsOf[1]));
      if (!r) return json(404, { message: 'Not Found' });
      const names = (JSON.parse(String(init?.body ?? '{}')) as { labels: string[] }).labels;
      const kept = r.labels.filter((l) => l.type === 'read-only');
      r.labels = [...kept, ...names.map((name, i) => ({ id: 100 + i, name, type: 'custom' as const }))];
      return json(200, { total_count: r.labels.length, labels: r.labels });
    }
    const one = url.pathname.match(new RegExp(`^${base}/(\\d+)$`));
    if (one) {
      const id = Number(one[1]);
      const idx = this.runners.findIndex((r) => r.id === id);
      if (idx < 0) return json(404, { message: 'Not Found' });
      if (method === 'GET') return json(200, this.runners[idx]);
      if (method === 'DELETE') {
        const forced = this.nextDeleteAnswer;
        this.nextDeleteAnswer = undefined;
        if (forced) return json(forced.status, { message: forced.message });
        if (this.runners[idx]?.busy) {
          return json(422, {
            message: `Bad request - Runner "${this.runners[idx]?.name}" is still running a job"`,
          });
        }
        this.runners.splice(idx, 1);
        return json(204, null);
      }
    }
    return json(404, { message: 'Not Found' });
  };
}
