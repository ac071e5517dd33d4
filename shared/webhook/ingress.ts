import { Webhooks } from '@octokit/webhooks';
import type { Context } from 'aws-lambda';
import type { PublishOnce } from './dedupe';
import { KNOWN_WORKFLOW_JOB_ACTIONS, normalizeWorkflowJob, WorkflowJobPayloadSchema } from './normalize';

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

export interface IngressDeps {
  /** The webhook secret (cached by the caller). */
  secret: () => Promise<string>;
  publishOnce: PublishOnce;
  /** Larger bodies are refused with 413 before any hashing. */
  maxBodyBytes: number;
  context?: Context;
}

const reply = (statusCode: number, status: string, extra: Record<string, unknown> = {}): IngressResponse => ({
  statusCode,
  body: { status, ...extra },
});

/**
 * GitHub webhook -> normalized bus event. Order matters: method, size (cheap, before hashing), the
 * signature over the RAW body (HMAC-SHA256, constant-time compare in @octokit/webhooks), then the
 * event. workflow_job is published once per X-GitHub-Delivery; every other event is accepted and
 * ignored (202) so GitHub does not mark the hook failing. A publish failure throws: the Function URL
 * answers 5xx and the delivery can be redelivered from GitHub.
 */
export async function handleWebhook(req: IngressRequest, deps: IngressDeps): Promise<IngressResponse> {
  if (req.method.toUpperCase() !== 'POST') return reply(405, 'method-not-allowed', { method: req.method });
  const bytes = Buffer.byteLength(req.body, 'utf8');
  if (bytes > deps.maxBodyBytes) return reply(413, 'too-large', { bytes, limit: deps.maxBodyBytes });

  const signature = req.headers['x-hub-signature-256'];
  if (!signature?.startsWith('sha256='))
    return reply(401, 'unsigned', { message: 'X-Hub-Signature-256 missing' });
  const verified = await new Webhooks({ secret: await deps.secret() })
    .verify(req.body, signature)
    .catch(() => false);
  if (!verified)
    return reply(401, 'bad-signature', { message: 'X-Hub-Signature-256 does not match the body' });

  const event = req.headers['x-github-event'];
  const deliveryId = req.headers['x-github-delivery'];
  if (!deliveryId) return reply(400, 'malformed', { message: 'X-GitHub-Delivery missing' });
  if (event === 'ping') return reply(200, 'pong', { deliveryId });
  if (event !== 'workflow_job') return reply(202, 'ignored', { event: event ?? null, deliveryId });

  let json: unknown;
  try {
    json = JSON.parse(req.body);
  } catch {
    return reply(400, 'malformed', { message: 'body is not JSON', deliveryId });
  }
  // an action GitHub added later is not malformed: accept and ignore it (a 4xx marks the hook failing)
  const action = (json as { action?: unknown } | null)?.action;
  if (typeof action === 'string' && !(KNOWN_WORKFLOW_JOB_ACTIONS as readonly string[]).includes(action))
    return reply(202, 'ignored', { event, action, deliveryId });
  const payload = WorkflowJobPayloadSchema.safeParse(json);
  if (!payload.success) {
    const fields = payload.error.issues.slice(0, 5).map((i) => i.path.join('.') || '(root)');
    return reply(400, 'malformed', {
      message: `not a workflow_job payload: ${fields.join(', ')}`,
      deliveryId,
    });
  }
  const out = await deps.publishOnce(
    deliveryId,
    normalizeWorkflowJob(deliveryId, payload.data),
    deps.context,
  );
  return out.duplicate
    ? reply(200, 'duplicate', { deliveryId })
    : reply(202, 'published', { deliveryId, eventId: out.eventId });
}
