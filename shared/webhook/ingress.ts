import { createHash } from 'node:crypto';
import { verify } from '@octokit/webhooks-methods';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors';
import { DEFAULT_WEBHOOK_HOST } from '../github/workflow-job-names';
import type { PublishOnce } from './dedupe';
import {
  jobActionTime,
  KNOWN_WORKFLOW_JOB_ACTIONS,
  normalizeWorkflowJob,
  WorkflowJobPayloadSchema,
} from './normalize';

/** A webhook request as the Function URL delivered it (body already base64-decoded). */
export interface IngressRequest {
  method: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: string;
}

export interface IngressResponse {
  statusCode: number;
  body: { status: string; [k: string]: unknown };
}

/** A runner pool the ingress serves: its name, its GitHub's host, its webhook secret (cached by the caller). */
export interface IngressPool {
  pool: string;
  /** Lowercase: `github.com`, or the GHES hostname its X-GitHub-Enterprise-Host names. */
  host: string;
  secret: () => Promise<string>;
}

export interface IngressDeps {
  /** The pools; a delivery belongs to the one whose secret verifies its signature. */
  pools: readonly IngressPool[];
  publishOnce: PublishOnce;
  /** Larger bodies are refused with 413 before any hashing. */
  maxBodyBytes: number;
  /**
   * A workflow_job whose action happened longer ago than this (by the job's own signed timestamps)
   * is ignored as stale: a captured body replayed later is not published again. @default 3_600_000
   */
  maxJobAgeMs?: number;
  /** Clock (ms since epoch). @default Date.now */
  now?: () => number;
  context?: Context;
}

/** Statuses of a refused signature: counted in a metric, never logged at info (cost under a flood). */
export const REFUSED_SIGNATURE_STATUSES: ReadonlySet<string> = new Set(['unsigned', 'bad-signature']);

const reply = (statusCode: number, status: string, extra: Record<string, unknown> = {}): IngressResponse => ({
  statusCode,
  body: { status, ...extra },
});

/** The JSON document of a delivery: the body itself, or the `payload` field of a form-encoded body. */
function deliveryJson(req: IngressRequest): { json: unknown } | { problem: string } {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  let text = req.body;
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(req.body).get('payload');
    if (payload === null) return { problem: 'form-encoded body has no payload field' };
    text = payload;
  }
  try {
    return { json: JSON.parse(text) };
  } catch {
    return {
      problem: type === 'application/x-www-form-urlencoded' ? 'payload is not JSON' : 'body is not JSON',
    };
  }
}

/**
 * The pool whose secret verifies the signature, or the refusal. Every pool's secret is tried (each
 * a constant-time compare in @octokit/webhooks-methods, over the RAW body as sent, form encoding included);
 * a signature two pools verify means they hold the same secret: a configuration error (thrown: 5xx),
 * never a guess. The unsigned headers play no part here.
 */
async function verifiedPool(req: IngressRequest, deps: IngressDeps): Promise<IngressPool | IngressResponse> {
  const signature = req.headers['x-hub-signature-256'];
  if (!signature?.startsWith('sha256='))
    return reply(401, 'unsigned', { message: 'X-Hub-Signature-256 missing' });
  const verdicts = await Promise.all(
    deps.pools.map(async (p) => {
      const secret = await p.secret();
      // an empty secret is a misconfiguration (5xx, alarmed), never a 401 the sender is blamed for
      if (!secret) throw new ConfigError(`pool ${p.pool}: its webhook secret is empty`);
      return verify(secret, req.body, signature).catch(() => false);
    }),
  );
  const matched = deps.pools.filter((_p, i) => verdicts[i]);
  if (matched.length > 1)
    throw new ConfigError(
      `pools ${matched.map((p) => p.pool).join(', ')} hold the same webhook secret: a delivery cannot be attributed to one; give each pool its own`,
    );
  return (
    matched[0] ?? reply(401, 'bad-signature', { message: 'X-Hub-Signature-256 does not match the body' })
  );
}

/**
 * The unsigned X-GitHub-Enterprise-Host is only cross-checked against the verified pool's host: a
 * github.com pool's delivery must carry none, a GHES pool's must name its host (a secret entered in
 * the wrong GitHub's hook, or a GHES delivery relayed elsewhere, is refused, never re-attributed).
 */
function hostProblem(req: IngressRequest, pool: IngressPool): IngressResponse | undefined {
  const claimed = req.headers['x-github-enterprise-host']?.trim().toLowerCase() || undefined;
  if ((claimed ?? DEFAULT_WEBHOOK_HOST) === pool.host) return undefined;
  return reply(403, 'wrong-host', {
    pool: pool.pool,
    message: `signed with the secret of pool ${pool.pool} (${pool.host}) but sent by ${claimed ? `X-GitHub-Enterprise-Host ${claimed}` : 'github.com (no X-GitHub-Enterprise-Host)'}`,
  });
}

/**
 * GitHub webhook -> normalized bus event. Order matters: method, size (cheap, before hashing), the
 * signature over the RAW body as sent (JSON or form-encoded: GitHub's default content type puts the
 * JSON in a `payload=` field and signs the form body) -> the pool whose secret verifies it, the
 * enterprise host header cross-checked against that pool's host (403 wrong-host), then the event. Replays: workflow_job is
 * published once per X-GitHub-Delivery AND once per sha256 of the signed body (the headers are not
 * signed, so a captured body can come back under a new id), and a job whose action happened more than
 * `maxJobAgeMs` ago is ignored as stale. Every other event is accepted and ignored (202) so GitHub does
 * not mark the hook failing. A publish failure throws: the Function URL answers 5xx and the delivery
 * can be redelivered from GitHub.
 */
export async function handleWebhook(req: IngressRequest, deps: IngressDeps): Promise<IngressResponse> {
  if (req.method.toUpperCase() !== 'POST') return reply(405, 'method-not-allowed', { method: req.method });
  const bytes = Buffer.byteLength(req.body, 'utf8');
  if (bytes > deps.maxBodyBytes) return reply(413, 'too-large', { bytes, limit: deps.maxBodyBytes });
  const verified = await verifiedPool(req, deps);
  if ('statusCode' in verified) return verified;
  const pool = verified;
  const wrongHost = hostProblem(req, pool);
  if (wrongHost) return wrongHost;
  return handleVerified(req, deps, pool);
}

/** A delivery whose pool is known: the event, its payload, its age, then publish once. */
async function handleVerified(
  req: IngressRequest,
  deps: IngressDeps,
  pool: IngressPool,
): Promise<IngressResponse> {
  const event = req.headers['x-github-event'];
  const deliveryId = req.headers['x-github-delivery'];
  if (!deliveryId) return reply(400, 'malformed', { message: 'X-GitHub-Delivery missing' });
  if (event === 'ping') return reply(200, 'pong', { deliveryId });
  if (event !== 'workflow_job') return reply(202, 'ignored', { event: event ?? null, deliveryId });

  const doc = deliveryJson(req);
  if ('problem' in doc) return reply(400, 'malformed', { message: doc.problem, deliveryId });
  // an action GitHub added later is not malformed: accept and ignore it (a 4xx marks the hook failing)
  const action = (doc.json as { action?: unknown } | null)?.action;
  if (typeof action === 'string' && !(KNOWN_WORKFLOW_JOB_ACTIONS as readonly string[]).includes(action))
    return reply(202, 'ignored', { event, action, deliveryId });
  const payload = WorkflowJobPayloadSchema.safeParse(doc.json);
  if (!payload.success) {
    const fields = payload.error.issues.slice(0, 5).map((i) => i.path.join('.') || '(root)');
    return reply(400, 'malformed', {
      message: `not a workflow_job payload: ${fields.join(', ')}`,
      deliveryId,
    });
  }
  const time = jobActionTime(payload.data);
  if (!time)
    return reply(400, 'malformed', {
      message: `workflow_job ${payload.data.action} has no valid time`,
      deliveryId,
    });
  const ageMs = (deps.now ?? Date.now)() - time.ms;
  const maxAgeMs = deps.maxJobAgeMs ?? 3_600_000;
  if (ageMs > maxAgeMs)
    return reply(202, 'stale', {
      action: payload.data.action,
      deliveryId,
      message: `${time.field} is ${Math.round(ageMs / 1000)} s old (limit ${maxAgeMs / 1000} s)`,
    });
  const bodyDigest = createHash('sha256').update(req.body, 'utf8').digest('hex');
  const out = await deps.publishOnce(
    { deliveryId, bodyDigest },
    normalizeWorkflowJob(deliveryId, payload.data, { host: pool.host, pool: pool.pool }),
    deps.context,
  );
  return out.duplicate
    ? reply(200, 'duplicate', { deliveryId, pool: pool.pool, by: out.by ?? 'delivery-id' })
    : reply(202, 'published', { deliveryId, pool: pool.pool, eventId: out.eventId });
}
