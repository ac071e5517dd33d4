import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import { simulateCommandWith } from '../commands/simulate';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import type { Invariant } from './invariants';
import { SIM_ZONES, SPOKE_ACCOUNTS, UNKNOWN_ACCOUNT } from './multi-account';
import type { Summary } from './report';
import { HUB, topologyOf, wireAcrossScopes } from './scopes';
import { type HandlerOverrides, simulatedGate, type World } from './world';

/**
 * `--scenario multi-account` end to end: a hub and spokes in 3 accounts x 2 regions, spoke events
 * forwarded by the synthesized spoke stacks, every invariant holding; then each of its invariants
 * failing (exit 1) on a deliberately broken dns-sync.
 */
// the default settle (65 min): the sweep's rolling removal budget (1 h) can hold a ghost for a window
const SMALL = ['--instances', '9', '--duration', '30', '--settle', '65'];

interface Rec {
  function: string;
  action: string;
  decision: string;
  account?: string;
  region?: string;
  trigger: { id: string };
  details?: { requests?: Array<{ zoneId: string }> };
}

async function run(overrides: HandlerOverrides = {}) {
  const out = mkdtempSync(join(tmpdir(), 'fw-sim-multi-'));
  const t = testDeps();
  const code = await runCli(
    ['node', 'fleetwarden', 'simulate', '--out', out, ...SMALL, '--scenario', 'multi-account'],
    t.deps,
    [simulateCommandWith(overrides)],
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const records = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as Rec[];
  const invariant = (name: string) => summary.invariants.find((i) => i.name === name) as Invariant;
  if (process.env.DEBUG_SIM)
    console.log(
      t.stderr?.() ?? '',
      summary.invariants.filter((i) => !i.ok),
    );
  return { code, summary, records, invariant };
}

const dnsSync = REMEDIATIONS.find((d) => d.name === 'dns-sync');
if (!dnsSync) throw new Error('dns-sync is not registered');
const DNS_SYNC = dnsSync.entry;

describe('simulated hub and spokes', () => {
  it('acts on every spoke host in its own account and region, and holds every invariant', async () => {
    const { code, summary, records } = await run();
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(code).toBe(0);
    // spoke events reached the hub through the spoke stacks' rules: dns-sync acted in each member account
    const acted = records.filter((r) => r.function === 'dns-sync' && r.decision === 'acted');
    for (const account of SPOKE_ACCOUNTS)
      for (const region of ['eu-west-1', 'us-east-1'])
        expect(acted.some((r) => r.account === account && r.region === region)).toBe(true);
    // 3 zones: hosts named under build.fleet.example.internal went to the build zone; the public
    // view of the split horizon got nothing (no simulated instance has a public IP)
    const zonesWritten = new Set(acted.flatMap((r) => (r.details?.requests ?? []).map((q) => q.zoneId)));
    expect(zonesWritten.has(SIM_ZONES.build.id)).toBe(true);
    expect(zonesWritten.has(SIM_ZONES.private.id)).toBe(true);
    expect(zonesWritten.has(SIM_ZONES.public.id)).toBe(false);
    // the unknown account's event was refused with its record
    expect(
      records.some(
        (r) =>
          r.action === 'trust.unknown-account' && r.decision === 'refused' && r.trigger.id.includes('forged'),
      ),
    ).toBe(true);
  });

  it('exits 1 when dns-sync looks an event up in every account (not only its own)', async () => {
    const broken: HandlerOverrides = {
      [DNS_SYNC]: (w: World, env) =>
        wireAcrossScopes(dnsSync, w, env, topologyOf(env) as never, simulatedGate(dnsSync, w, env), 'fleet'),
    };
    const { code, invariant } = await run(broken);
    expect(code).toBe(1);
    const i = invariant("every per-event call is made in its event's account and region");
    expect(i.ok).toBe(false);
    expect(i.details.join('\n')).toMatch(/dns-sync called EC2\.describe .* while serving events of/);
  });

  it("exits 1 when dns-sync's whole batch describes a spoke's instance in the hub", async () => {
    // one handler per batch across scopes (scopeBatches 'whole'), but its inventory is the hub's in
    // every scope: a spoke event's instance is looked up outside its own account
    const broken: HandlerOverrides = {
      [DNS_SYNC]: (w: World, env) => {
        const scopes = Object.create(w.scopes) as World['scopes'];
        const hubInventory = w.scopes.recorded(HUB).inventory;
        scopes.recorded = (s) => ({ ...w.scopes.recorded(s), inventory: hubInventory });
        const hubOnly = Object.create(w, { scopes: { value: scopes } }) as World;
        return wireAcrossScopes(
          dnsSync,
          hubOnly,
          env,
          topologyOf(env) as never,
          simulatedGate(dnsSync, w, env),
        );
      },
    };
    const { code, invariant } = await run(broken);
    expect(code).toBe(1);
    const i = invariant("every per-event call is made in its event's account and region");
    expect(i.ok).toBe(false);
    expect(i.details.join('\n')).toMatch(
      /dns-sync called EC2\.describe .* in .*, but the event naming i-\w+ came from /,
    );
  });

  it("exits 1 when dns-sync writes a spoke event's record in the hub", async () => {
    // the whole batch's per-message records through the hub's audit sink (as when sqsBatch no longer
    // runs each message in its own scope, inMessageSpoke): the reads stay in their scopes
    const broken: HandlerOverrides = {
      [DNS_SYNC]: (w: World, env) => {
        const hubAudit = {
          ...dnsSync,
          create: (p: Record<string, unknown>, s: unknown, r: unknown) =>
            dnsSync.create({ ...p, audit: w.audit } as never, s as never, r as never),
        };
        return wireAcrossScopes(hubAudit, w, env, topologyOf(env) as never, simulatedGate(dnsSync, w, env));
      },
    };
    const { code, invariant } = await run(broken);
    expect(code).toBe(1);
    const i = invariant("every per-event audit record is written in its event's account and region");
    expect(i.ok).toBe(false);
    expect(i.details.join('\n')).toMatch(
      /dns-sync's dns\.\w+ record .* about event \S+ of \d{12}\/[\w-]+ was written in \d{12}\/[\w-]+/,
    );
  });

  it("exits 1 when dns-sync describes a spoke's tag-changed instance in the hub", async () => {
    // a tag change names its instance only by ARN (resources); a lookup of it in the hub, in a batch
    // that also serves the hub's own rename, is judged by the instance's event, not the batch's scopes
    const renamed: string[] = [];
    const broken: HandlerOverrides = {
      [DNS_SYNC]: (w: World, env) => {
        const handler = wireAcrossScopes(
          dnsSync,
          w,
          env,
          topologyOf(env) as never,
          simulatedGate(dnsSync, w, env),
        );
        const hub = w.scopes.recorded(HUB).inventory;
        return async (event, context) => {
          for (const r of (event as SQSEvent).Records) {
            const body = JSON.parse(r.body) as {
              'detail-type'?: string;
              account?: string;
              resources?: string[];
            };
            // the instance's ARN: arn:aws:ec2:<region>:<account>:instance/<id>
            const id = body.resources?.[0]?.split('/').pop();
            if (body['detail-type'] !== 'Tag Change on Resource' || !id || body.account === HUB.account)
              continue;
            renamed.push(id);
            await hub.describe([id]);
          }
          return handler(event, context);
        };
      },
    };
    const { code, invariant } = await run(broken);
    expect(renamed.length).toBeGreaterThan(0);
    expect(code).toBe(1);
    const i = invariant("every per-event call is made in its event's account and region");
    expect(i.ok).toBe(false);
    const text = i.details.join('\n');
    expect(
      renamed.some((id) =>
        text.includes(`in ${HUB.account}/${HUB.region}, but the event naming ${id} came from `),
      ),
    ).toBe(true);
  });

  it('exits 1 when dns-sync trusts an account that is no spoke', async () => {
    const broken: HandlerOverrides = {
      [DNS_SYNC]: (w: World, env) => {
        const t = topologyOf(env);
        if (!t) throw new Error('no topology');
        const trusting = { ...t, spokes: [...t.spokes, { account: UNKNOWN_ACCOUNT, region: 'eu-west-1' }] };
        return wireAcrossScopes(dnsSync, w, env, trusting, simulatedGate(dnsSync, w, env));
      },
    };
    const { code, invariant } = await run(broken);
    expect(code).toBe(1);
    expect(invariant('no call outside the hub and its spokes').ok).toBe(false);
    expect(
      invariant('every event of an unknown account is refused, never acted on').details.join('\n'),
    ).toMatch(/was handled by dns-sync/);
  });
});
