import { describe, expect, it } from 'vitest';
import { claimState } from '../../functions/dns-sync/simulation';
import { drainWatch, FOREIGN_HOOK } from '../../functions/runner-drain/simulation';
import { FOREIGN_FLEET_ID } from '../../functions/runner-sweep/simulation';
import { ALL_FAULTS } from './fault-flags';
import { FOREIGN_ASG, faultState } from './faults';
import { faultTargets } from './remediation-simulation';
import { simulate } from './simulate';

/** A short run (9 instances, 20 + 10 minutes, no chaos) with the given faults. */
const shortRun = (faults: Parameters<typeof simulate>[0]['faults'], seed = 42) =>
  simulate({
    seed,
    instances: 9,
    durationMinutes: 20,
    settleMinutes: 10,
    drop: 0,
    duplicate: 0,
    reorder: 0,
    errorRate: 0,
    faults,
  });

/** The seed of the short run that needs particular instances (see it). */
const SEED = 3;
/** A seed whose first scale-in has a registered runner to delete (seed 3 has none since the drain's by-name lookup). */
const DELETE_ERRORS_SEED = 4;

describe('adversarial faults do what their flags say', () => {
  it('all together (a short --adversarial run): forged messages, foreign hooks, spoofed tags, an audit outage, flapping, replays, form bodies', async () => {
    // a seed with three live runners when the lies are sent (runner-drain's 1-minute look reorders
    // same-time tasks, and with seed 42 only two were live then)
    const { engine } = await shortRun(ALL_FAULTS, SEED);
    const s = faultState(engine);
    // four lies to the DNS queue, three to the drain queue, each about an instance live when sent
    expect(s.forged.map((f) => `${f.queue}:${f.lie}`).sort()).toEqual([
      'dns:foreign ASG',
      'dns:future-dated',
      'dns:future-dated',
      'dns:wrong state',
      'drain:foreign ASG',
      'drain:future-dated',
      'drain:wrong state',
    ]);
    // every scale-in met the fleet's hook and the other team's, each with its own token
    expect(engine.hooks.length).toBeGreaterThan(0);
    expect(engine.foreignTokens.size).toBe(engine.hooks.length);
    expect(FOREIGN_HOOK.name).not.toBe(engine.hooks[0]?.hookName);
    const spoofed = [...engine.truth.values()].filter((t) => t.kind === 'spoofed');
    expect(spoofed.map((t) => t.asg ?? 'none').sort()).toEqual([FOREIGN_ASG, 'none'].sort());
    // the outage is bounded: every write inside the window failed, none outside it failed for it
    const outage = engine.world.audit.outage as { from: number; to: number };
    const writes = engine.world.journal.writes;
    const inside = writes.filter((w) => w.at >= outage.from && w.at < outage.to);
    expect(outage.to - outage.from).toBe(120_000);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.every((w) => !w.ok)).toBe(true);
    expect(writes.filter((w) => w.at >= outage.to).some((w) => w.ok)).toBe(true);
    expect(faultTargets(engine, 'flapping').size).toBeGreaterThan(0);
    // the stopped variant names instances the terminated one does not; GitHub 5xx hit some drains' DELETEs
    expect(faultTargets(engine, 'flapping-stopped').size).toBeGreaterThan(0);
    // (GitHub 5xx on drains' DELETEs: its own test below; this short run has one non-warm scale-in)
    const kinds = new Set(engine.world.journal.webhooks.map((w) => w.kind));
    expect([...kinds].sort()).toEqual(['form', 'json', 'replay']);
    // another fleet's offline runners, each labelled for an instance of this fleet that left
    const blue = engine.world.registry
      .snapshot()
      .filter((r) => r.labels.includes(`fleetwarden-fleet:${FOREIGN_FLEET_ID}`));
    expect(blue.length).toBeGreaterThan(0);
    for (const r of blue) {
      const id = r.labels.find((l) => l.startsWith('fleetwarden-instance:'))?.split(':')[1] ?? '';
      expect(engine.truth.get(id)?.kind).toBe('runner');
      expect(r.status).toBe('offline');
    }
  });

  it('refuses a fault no simulation declares (a misspelt key would silently test nothing)', async () => {
    await expect(shortRun({ warmPoolScaleIns: true })).rejects.toThrow(
      'unknown simulator fault: warmPoolScaleIns',
    );
  });

  it("GitHub DELETE 5xx during drains: some of runner-drain's deregistrations are answered 502", async () => {
    // a seed whose first (even) scale-in has a registered runner to delete (two answered 502)
    const { engine } = await shortRun({ githubDeleteErrors: true }, DELETE_ERRORS_SEED);
    expect(drainWatch(engine).deleteErrors).toBeGreaterThan(0);
  });

  it('name claimants and stale replays: a stopped holder, a claimant of its name, a captured body sent after the job age', async () => {
    const { engine } = await simulate({
      seed: 42,
      instances: 9,
      durationMinutes: 20,
      settleMinutes: 65,
      drop: 0,
      duplicate: 0,
      reorder: 0,
      errorRate: 0,
      faults: { nameClaimants: true, staleReplays: true },
    });
    const { holder, claimant } = claimState(engine);
    expect(holder?.kind).toBe('web');
    expect(claimant?.name).toBe(holder?.name);
    expect(claimant?.id).not.toBe(holder?.id);
    // the holder was stopped and started again (same IP); it holds its name at the end
    expect(holder?.state).toBe('running');
    const a = engine.world.route53
      .records(engine.zoneId)
      .find((r) => r.type === 'A' && r.name.startsWith(`${holder?.name}.`));
    expect(a?.values).toEqual([holder?.ip]);
    // the captured body never reached the ingress before; sent 70 min later it is refused as stale
    const stale = engine.world.journal.webhooks.filter((w) => w.kind === 'stale-replay');
    expect(stale).toEqual([expect.objectContaining({ status: 202, published: 0 })]);
    expect(stale[0]?.deliveryId).toMatch(/^captured-delivery-\d+-queued$/);
  });
});
