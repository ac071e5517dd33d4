import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * GitHub's official OpenAPI descriptions (@octokit/openapi for the REST API, @octokit/openapi-webhooks
 * for webhook payloads), and a small JSON-schema check to hold fakes and fixtures to them. Test-only:
 * the descriptions are devDependencies (13 MB and 5 MB of JSON, read once per test process).
 *
 * The check covers what the descriptions use for the routes fleetwarden calls: $ref, allOf, oneOf /
 * anyOf (read as "at least one": GitHub's nullable alternatives overlap on null), type (one or a list,
 * `null` included), nullable, enum, required, properties, items. Unknown keywords (format, pattern,
 * additionalProperties) are not checked: GitHub adds fields, so extra properties are allowed.
 */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface Document {
  paths?: Record<string, Record<string, Operation>>;
  webhooks?: Record<string, Record<string, { requestBody?: Body }>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, Body & { $ref?: string }> };
}
interface Body {
  $ref?: string;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  responses?: Record<string, Body>;
  requestBody?: Body;
}

const require = createRequire(import.meta.url);
const docs = new Map<string, Document>();
function load(module: string): Document {
  let doc = docs.get(module);
  if (!doc) {
    doc = JSON.parse(readFileSync(require.resolve(module), 'utf8')) as Document;
    docs.set(module, doc);
  }
  return doc;
}
/** Which of GitHub's REST descriptions: github.com, Enterprise Cloud (enterprise routes), a GHES release. */
export type RestDescriptionName = 'api.github.com' | 'ghec' | 'ghes-3.19';
export const restDescription = (name: RestDescriptionName = 'api.github.com') =>
  load(`@octokit/openapi/generated/${name}.json`);
export const webhookDescription = () => load('@octokit/openapi-webhooks/generated/api.github.com.json');

function resolve<T>(doc: Document, ref: string): T {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = doc;
  for (const p of parts)
    node = (node as Record<string, unknown>)?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  return node as T;
}

function typeOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value];
}

/** Every way `value` breaks `schema`, each as "path: problem"; [] when it holds. */
export function schemaViolations(doc: Document, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref) return schemaViolations(doc, resolve<Schema>(doc, schema.$ref), value, path);
  const out: string[] = [];
  for (const s of schema.allOf ?? []) out.push(...schemaViolations(doc, s, value, path));
  for (const alternatives of [schema.oneOf, schema.anyOf]) {
    if (alternatives && !alternatives.some((s) => schemaViolations(doc, s, value, path).length === 0))
      out.push(`${path}: matches none of ${alternatives.length} alternatives`);
  }
  if (value === null && (schema.nullable || [schema.type].flat().includes('null'))) return out;
  if (schema.type !== undefined) {
    const allowed = [schema.type].flat();
    if (!typeOf(value).some((t) => allowed.includes(t)))
      return [...out, `${path}: expected ${allowed.join(' | ')}, got ${JSON.stringify(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    // an undefined property is absent, as in the JSON on the wire
    for (const r of schema.required ?? [])
      if (obj[r] === undefined) out.push(`${path}: required ${r} missing`);
    for (const [k, s] of Object.entries(schema.properties ?? {}))
      if (obj[k] !== undefined) out.push(...schemaViolations(doc, s, obj[k], `${path}.${k}`));
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((v, i) => {
      out.push(...schemaViolations(doc, items, v, `${path}[${i}]`));
    });
  }
  return out;
}

const routeTables = new Map<RestDescriptionName, Array<{ route: string; pattern: RegExp; params: number }>>();

/** The described operation for a concrete request path (`/orgs/acme/actions/runners/7`). */
export function restOperation(
  method: string,
  pathname: string,
  name: RestDescriptionName = 'api.github.com',
): { route: string; op: Operation } | undefined {
  const doc = restDescription(name);
  let routes = routeTables.get(name);
  routes ??= Object.keys(doc.paths ?? {}).map((route) => ({
    route,
    pattern: new RegExp(`^${route.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    params: route.split('{').length - 1,
  }));
  routeTables.set(name, routes);
  // a literal segment wins over a parameter (`/runners/downloads` is not runner "downloads")
  const best = routes
    .filter((r) => doc.paths?.[r.route]?.[method.toLowerCase()] && r.pattern.test(pathname))
    .sort((a, b) => a.params - b.params)[0];
  const op = best && doc.paths?.[best.route]?.[method.toLowerCase()];
  return best && op ? { route: best.route, op } : undefined;
}

function jsonSchemaOf(doc: Document, body: Body | undefined): Schema | undefined {
  const b = body?.$ref ? resolve<Body>(doc, body.$ref) : body;
  return b?.content?.['application/json']?.schema;
}

/**
 * How a REST response breaks GitHub's description of its route: the route or (for a success) the
 * status undescribed, a 204 with a body, or the body against the status's schema. An error status the
 * route does not list is held to GitHub's generic `basic-error`.
 */
export function restResponseViolations(
  method: string,
  pathname: string,
  status: number,
  body: unknown,
  name: RestDescriptionName = 'api.github.com',
): string[] {
  const doc = restDescription(name);
  const found = restOperation(method, pathname, name);
  const where = `${method.toUpperCase()} ${pathname} ${status}`;
  if (!found) return [`${where}: no such route in ${name}'s description`];
  const described = found.op.responses?.[String(status)];
  if (!described && status < 400) return [`${where}: status not described for ${found.route}`];
  if (status === 204) return body === undefined || body === null ? [] : [`${where}: a 204 has no body`];
  const schema = described ? jsonSchemaOf(doc, described) : { $ref: '#/components/schemas/basic-error' };
  return schema ? schemaViolations(doc, schema, body).map((v) => `${where} ${v}`) : [];
}

/** How a request body breaks its route's described request body. */
export function restRequestViolations(
  method: string,
  pathname: string,
  body: unknown,
  name: RestDescriptionName = 'api.github.com',
): string[] {
  const doc = restDescription(name);
  const found = restOperation(method, pathname, name);
  if (!found) return [`${method.toUpperCase()} ${pathname}: no such route in ${name}'s description`];
  const schema = jsonSchemaOf(doc, found.op.requestBody);
  if (!schema || body === undefined) return [];
  return schemaViolations(doc, schema, body).map((v) => `${method.toUpperCase()} ${pathname} request ${v}`);
}

/** How a webhook payload breaks its described schema (`workflow-job-in-progress`, …). */
export function webhookViolations(webhook: string, payload: unknown, pick?: string): string[] {
  const doc = webhookDescription();
  const schema = jsonSchemaOf(doc, doc.webhooks?.[webhook]?.post?.requestBody);
  if (!schema) return [`webhook ${webhook}: not described`];
  const root = schema.$ref ? resolve<Schema>(doc, schema.$ref) : schema;
  const sub = pick ? root.properties?.[pick] : root;
  if (!sub) return [`webhook ${webhook}: no property ${pick}`];
  const value = pick ? (payload as Record<string, unknown>)[pick] : payload;
  return schemaViolations(doc, sub, value, pick ? `$.${pick}` : '$');
}

/**
 * Wrap a fake's `fetch`: every request body and every response is checked against the REST
 * description (`description`, default api.github.com's; a GHES's paths are read under its
 * `baseUrl`, e.g. https://ghe.example.com/api/v3), and what breaks it is pushed to `violations`
 * (the caller asserts it stays empty).
 */
export function describedFetch(
  inner: typeof fetch,
  violations: string[],
  options: { description?: RestDescriptionName; baseUrl?: string } = {},
): typeof fetch {
  const name = options.description ?? 'api.github.com';
  const rootPath = new URL(options.baseUrl ?? 'https://api.github.com').pathname.replace(/\/$/, '');
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const pathname = url.pathname.startsWith(rootPath) ? url.pathname.slice(rootPath.length) : url.pathname;
    const method = (init?.method ?? 'GET').toUpperCase();
    if (typeof init?.body === 'string')
      violations.push(...restRequestViolations(method, pathname, JSON.parse(init.body), name));
    const res = await inner(input, init);
    const text = await res.clone().text();
    violations.push(
      ...restResponseViolations(method, pathname, res.status, text ? JSON.parse(text) : undefined, name),
    );
    return res;
  };
}
