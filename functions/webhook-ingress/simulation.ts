/**
 * webhook-ingress in the simulator: replayed bodies under new delivery ids, form-encoded
 * deliveries, a captured body sent later than the maximum job age; a replay publishes nothing, a
 * form delivery is accepted and published, no stale job is published.
 */
import {
  envOf,
  type Invariant,
  invariant,
  type RemediationSimulation,
  rel,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';

/** --stale-replays: when each workflow_job action happened (by delivery id), and the captured body. */
const jobTimes = new WeakMap<Engine, Map<string, number>>();
const captured = new WeakSet<Engine>();

/** When the action of a delivery happened, by its delivery id (a replay's is its original's). */
export function jobTimeOf(e: Engine, deliveryId: string): number | undefined {
  const at = deliveryId.indexOf('delivery-');
  return at < 0 ? undefined : jobTimes.get(e)?.get(deliveryId.slice(at));
}

/**
 * Records when each delivery's action happened (now). The first `queued` body is captured on the
 * way and never reaches the ingress (so nothing deduplicates it); it is sent, under a new delivery
 * id, ten minutes after the maximum job age. True when the delivery was captured.
 */
function captureForLater(e: Engine, fn: string, json: string, deliveryId: string): boolean {
  let times = jobTimes.get(e);
  if (!times) {
    times = new Map();
    jobTimes.set(e, times);
  }
  times.set(deliveryId, e.clock.now);
  if (captured.has(e) || !deliveryId.endsWith('-queued')) return false;
  captured.add(e);
  const maxAgeMs = Number(e.routing.functions.get(fn)?.env.MAX_JOB_AGE_SECONDS ?? 3600) * 1000;
  e.after(maxAgeMs + 10 * 60_000, async () => {
    await e.webhooks.deliver(fn, json, false, `captured-${deliveryId}`, 'stale-replay');
  });
  return true;
}

/** A replayed webhook body (same bytes, new delivery id) publishes nothing. */
export function replaysNotPublished(e: Engine): Invariant {
  const replays = e.world.journal.webhooks.filter((w) => w.kind === 'replay');
  const details = replays
    .filter((w) => w.published > 0)
    .map((w) => `${w.deliveryId}: answered ${w.status ?? 'error'}, published ${w.published} event(s) again`);
  return invariant('a replayed webhook body is not published twice', details, replays.length);
}

/** Every form-encoded workflow_job delivery is accepted and published. */
export function formDeliveriesAccepted(e: Engine): Invariant {
  const forms = e.world.journal.webhooks.filter((w) => w.kind === 'form' && !w.injected);
  const details = forms
    .filter((w) => w.status !== 202 || w.published === 0)
    .map((w) => `${w.deliveryId}: answered ${w.status ?? 'error'}, published ${w.published}`);
  return invariant('every form-encoded delivery is accepted and published', details, forms.length);
}

/**
 * No workflow_job event on the bus is older than the ingress's maximum job age (MAX_JOB_AGE_SECONDS,
 * 3600 s unless set) when published, by the time its action happened (known to the simulator).
 */
export function staleJobsNotPublished(e: Engine): Invariant {
  const maxAgeMs = Number(envOf(e, 'webhook-ingress').MAX_JOB_AGE_SECONDS ?? 3600) * 1000;
  let checked = 0;
  const details: string[] = [];
  for (const ev of e.world.bus.events) {
    const deliveryId = String(ev.detail.deliveryId ?? '');
    const at = jobTimeOf(e, deliveryId);
    if (at === undefined) continue;
    checked++;
    const ageMs = Date.parse(ev.time) - at;
    if (ageMs > maxAgeMs)
      details.push(
        `${deliveryId}: ${String(ev.detail.action)} of ${rel(at)} published at ${ev.time}, ${Math.round(ageMs / 1000)} s old (limit ${maxAgeMs / 1000} s)`,
      );
  }
  return invariant('no workflow_job older than the maximum job age published', details, checked);
}

export const simulation: RemediationSimulation = {
  function: 'webhook-ingress',
  faults: [
    {
      flag: 'webhook-replays',
      description: 'replay captured webhook bodies under new delivery ids',
      // every fourth accepted body comes back ten minutes later under a new delivery id
      install: (e) => {
        e.webhooks.answered.push((d) => {
          if (d.status !== 202 || d.n % 4 !== 0) return;
          e.after(10 * 60_000, async () => {
            await e.webhooks.deliver(d.fn, d.raw, d.form, `replay-${d.n}-${d.deliveryId}`, 'replay');
          });
        });
      },
    },
    {
      flag: 'form-encoded',
      description: 'send every other webhook delivery as application/x-www-form-urlencoded',
      install: (e) => {
        e.webhooks.formEncode.push((n) => n % 2 === 1);
      },
    },
    {
      flag: 'stale-replays',
      description:
        'capture a workflow_job body whose delivery never arrived and send it later than the maximum job age',
      install: (e) => {
        e.webhooks.capture.push((fn, json, deliveryId) => captureForLater(e, fn, json, deliveryId));
      },
    },
  ],
  // a PutEvents entry failure
  injectError: (e) => e.world.bus.failNextEntries(1),
  invariants: (e) => [replaysNotPublished(e), formDeliveriesAccepted(e), staleJobsNotPublished(e)],
};
