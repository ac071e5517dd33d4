import { Webhooks } from '@octokit/webhooks';
import type { Engine } from './scenario';
import { SIM_WEBHOOK_SECRET } from './world';

/** How a delivery reached the ingress: as GitHub sends it, form-encoded, or again (a replay). */
export type DeliveryKind = 'json' | 'form' | 'replay' | 'stale-replay';

/** One workflow_job delivery as sent: its body as GitHub wrote it and as it went on the wire. */
export interface SentDelivery {
  /** The ingress function (logical id). */
  fn: string;
  json: string;
  raw: string;
  form: boolean;
  deliveryId: string;
  /** The delivery's number among those that reached the ingress. */
  n: number;
  status: number | undefined;
}

/**
 * GitHub delivering workflow_job webhooks to the ingress function (signed, journaled). Faults hook
 * in: `capture` takes a delivery away (true: it never reaches the ingress now), `formEncode` sends
 * delivery n form-encoded (payload=..., signature over the raw form body), `answered` is told of
 * each answered delivery.
 */
export class WebhookSender {
  readonly capture: Array<(fn: string, json: string, deliveryId: string) => boolean> = [];
  readonly formEncode: Array<(n: number) => boolean> = [];
  readonly answered: Array<(d: SentDelivery) => void> = [];
  private deliveries = 0;
  private readonly github = new Webhooks({ secret: SIM_WEBHOOK_SECRET });

  constructor(private readonly e: Engine) {}

  /** The webhook ingress function, if the stack has one. */
  ingress(): string | undefined {
    return [...this.e.routing.functions.values()].find(
      (f) => f.entry === 'functions/webhook-ingress/index.ts',
    )?.logicalId;
  }

  /** Deliver a workflow_job body; the ingress's HTTP status (undefined: no answer, or none sent). */
  async send(json: string, deliveryId: string): Promise<number | undefined> {
    const fn = this.ingress();
    if (!fn) return undefined;
    if (this.capture.some((c) => c(fn, json, deliveryId))) return undefined;
    const n = this.deliveries++;
    const form = this.formEncode.some((f) => f(n));
    const raw = form ? `payload=${encodeURIComponent(json)}` : json;
    this.e.stats.webhooks.sent++;
    const status = await this.deliver(fn, raw, form, deliveryId, form ? 'form' : 'json');
    for (const a of this.answered) a({ fn, json, raw, form, deliveryId, n, status });
    return status;
  }

  /** One POST to the ingress, journaled as a run of its unit and as a webhook delivery. */
  async deliver(
    fn: string,
    raw: string,
    form: boolean,
    deliveryId: string,
    kind: DeliveryKind,
  ): Promise<number | undefined> {
    const e = this.e;
    let invocation = 0;
    let status: number | undefined;
    try {
      // the request inline, signature awaited in it: the ordering of concurrent invocations on
      // the simulated clock depends on the number of awaits on the way
      const res = (await e.invoke(
        fn,
        {
          requestContext: { http: { method: 'POST' } },
          headers: {
            'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
            'x-github-event': 'workflow_job',
            'x-github-delivery': deliveryId,
            // signed as GitHub signs (X-Hub-Signature-256 over the raw body as sent)
            'x-hub-signature-256': await this.github.sign(raw),
          },
          body: raw,
          isBase64Encoded: false,
        },
        (id) => {
          invocation = id;
        },
      )) as { statusCode?: number } | undefined;
      status = res?.statusCode;
    } catch {
      status = undefined;
    }
    const ok = status !== undefined && status < 500;
    e.world.journal.runs.push({
      unit: `webhook/${deliveryId}`,
      fn: 'webhook-ingress',
      at: e.clock.now,
      ok,
      injected: e.lastInjected,
    });
    e.world.journal.webhooks.push({
      deliveryId,
      kind,
      status,
      published: e.world.journal.publishedBy(invocation),
      injected: e.lastInjected,
    });
    return status;
  }
}
