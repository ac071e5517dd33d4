import { readdirSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ALIAS, FUNCTION_BUNDLING, functionBundling } from '../infra/constructs/fleet-function';
import { floorSource, sdkUseOf } from './bundle-floor';
import { bundleSizes, deployedFunctions, esbuildAliasOf, measureBundles } from './bundles.bench';

const ENTRIES = readdirSync('functions', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `functions/${d.name}/index.ts`);

interface Bundle {
  /** The inputs esbuild put into it (those with bytes in the output). */
  inputs: string[];
  /** The minified code. */
  code: string;
}

let built: ReturnType<typeof bundleSizes> | undefined;

/**
 * Every entry bundled once, as deployed (bench/bundles.bench.ts `bundleSizes`: FleetFunction's
 * options, the floor beside it), for every check below: sizes, inputs and code from one build (a
 * bundle takes seconds on 2 shared cores).
 */
async function bundleOf(entry: string): Promise<Bundle> {
  built ??= bundleSizes([...ENTRIES].sort());
  const found = (await built).find((b) => `functions/${b.entry}/index.ts` === entry);
  if (!found) throw new Error(`${entry} was not bundled`);
  return found.contents;
}

const inputsOf = async (entry: string): Promise<string[]> => (await bundleOf(entry)).inputs;

/** The inputs esbuild put into an entry's bundle, built with FleetFunction's options (its `define`). */
async function bundleInputs(entry: string, define = FUNCTION_BUNDLING.define): Promise<string[]> {
  return (await buildBundle(entry, define)).inputs;
}

async function buildBundle(entry: string, define = FUNCTION_BUNDLING.define): Promise<Bundle> {
  const r = await build({
    define,
    alias: esbuildAliasOf(FUNCTION_BUNDLING),
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    metafile: true,
    logLevel: 'silent',
    outfile: 'out.mjs',
    mainFields: ['module', 'main'],
  });
  const out = Object.values(r.metafile.outputs)[0];
  const inputs = Object.entries(out?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
  return { inputs, code: r.outputFiles[0]?.text ?? '' };
}

describe('function bundles carry only the SDK clients they use', () => {
  it.each([
    [
      'functions/webhook-ingress/index.ts',
      ['client-eventbridge', 'client-secrets-manager', 'client-dynamodb'],
      ['client-ec2', 'client-route-53', 'client-cloudtrail'],
    ],
    [
      'functions/dns-sync/index.ts',
      ['client-route-53', 'client-ec2'],
      // no gated action: the approval wiring (SNS notifier) stays out
      ['client-cloudtrail', 'client-secrets-manager', 'client-eventbridge', 'client-sns'],
    ],
    // its deletion asks the approval gate: the entry bundles the wiring
    ['functions/orphaned-volumes/index.ts', ['client-ec2', 'client-sns'], ['client-route-53']],
  ])('%s', async (entry, present, absent) => {
    const inputs = (await inputsOf(entry)).join('\n');
    for (const p of present) expect(inputs, p).toContain(`@aws-sdk/${p}/`);
    for (const a of absent) expect(inputs, a).not.toContain(`@aws-sdk/${a}/`);
  });
});

describe('a function with no gated action bundles nothing of the approval flow', () => {
  // only an entry that wires the gate (lambdaHandler's `approvals`) or is the flow's own function
  // reads the approval settings and carries shared/approvals/ (AGENTS.md "Approvals")
  const WITH_APPROVAL_FLOW = ['approvals-expire', 'orphaned-volumes', 'runner-sweep'];
  it.each(ENTRIES.filter((e) => !WITH_APPROVAL_FLOW.some((g) => e.includes(`/${g}/`))))(
    '%s',
    async (entry) => {
      expect((await inputsOf(entry)).filter((i) => i.startsWith('shared/approvals/'))).toEqual([]);
    },
  );
});

describe("function bundles leave zod's locales and unused parts out", () => {
  // `import { z } from 'zod'` (and Powertools' parser schemas, which import it so) keeps the whole
  // namespace, 258 KB of it error-message locales; `import * as z from 'zod'` lets esbuild shake it
  it.each(ENTRIES)('%s', async (entry) => {
    const inputs = await inputsOf(entry);
    expect(inputs.filter((i) => /node_modules\/zod\/.*locales\/(?!en\.)/.test(i))).toEqual([]);
  });
});

describe('function bundles carry zod/mini, never classic zod', () => {
  // classic zod's schemas carry every method, so nothing shakes: 60-70 KB and ~27 ms of init more
  // than zod/mini in every function (AGENTS.md "Schemas"; biome's noRestrictedImports keeps it so)
  it.each(ENTRIES)('%s', async (entry) => {
    const inputs = await inputsOf(entry);
    expect(inputs.filter((i) => /node_modules\/zod\/v4\/classic\//.test(i))).toEqual([]);
    expect(inputs.some((i) => i.includes('node_modules/zod/v4/locales/en.js'))).toBe(true);
  });
});

describe("function bundles leave zod/mini's iso and coerce namespaces out", () => {
  // `z.iso.datetime()` and `z.coerce.number()` reach their schema through a namespace object
  // (`export * as iso`, `export * as coerce`), which esbuild keeps whole: every ISO format (date,
  // time, duration) and every coercion (bigint, date) came with the one used (shared/core/zod-parts.ts)
  const UNUSED = ['ZodMiniBigInt', 'ZodMiniDate', 'ZodMiniISODate', 'ZodMiniISOTime', 'ZodMiniISODuration'];
  it.each(ENTRIES)('%s', async (entry) => {
    const { code } = await bundleOf(entry);
    expect(UNUSED.filter((name) => code.includes(`"${name}"`))).toEqual([]);
  });
});

describe('function bundles leave JMESPath out (FleetFunction FUNCTION_ALIAS)', () => {
  // Powertools idempotency imports @aws-lambda-powertools/jmespath statically and evaluates it only
  // for JMESPath options fleetwarden never sets: 23 KB of webhook-ingress (AGENTS.md, "Idempotency")
  it.each(ENTRIES)('%s', async (entry) => {
    // shared/core/no-jmespath.ts (what the alias gives) is the only JMESPath a bundle may carry
    expect((await inputsOf(entry)).filter((i) => /node_modules\/.*jmespath/i.test(i))).toEqual([]);
  });

  it("the bench bundles with the alias FleetFunction's esbuild flags carry", () => {
    expect(esbuildAliasOf(FUNCTION_BUNDLING)).toEqual(FUNCTION_ALIAS);
    expect(() => esbuildAliasOf({ esbuildArgs: { '--drop': 'console' } })).toThrow(/does not mirror/);
  });
});

describe('function bundles leave the X-Ray SDK out (SDK-call tracing is opt-in: FleetFunction sdkCallTracing)', () => {
  const XRAY = /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer|cls-hooked)\//;
  it.each(ENTRIES)('%s', async (entry) => {
    expect((await inputsOf(entry)).filter((i) => XRAY.test(i))).toEqual([]);
  });

  it('sdkCallTracing: true puts the tracer and the X-Ray SDK back (the metafile proves the switch)', async () => {
    const inputs = await bundleInputs(
      'functions/dns-sync/index.ts',
      functionBundling({ sdkCallTracing: true }).define,
    );
    expect(inputs.some((i) => i.includes('node_modules/aws-xray-sdk-core/'))).toBe(true);
    expect(inputs.some((i) => i.includes('node_modules/@aws-lambda-powertools/tracer/'))).toBe(true);
  });
});

describe('webhook-ingress verifies signatures without the webhook receiver', () => {
  // @octokit/webhooks' Webhooks class (emitter, event names, middleware: 11 KB) only wraps
  // @octokit/webhooks-methods' verify (1 KB) for what the ingress does
  it('bundles @octokit/webhooks-methods, not @octokit/webhooks', async () => {
    const inputs = await inputsOf('functions/webhook-ingress/index.ts');
    expect(inputs.some((i) => i.includes('node_modules/@octokit/webhooks-methods/'))).toBe(true);
    expect(inputs.filter((i) => i.includes('node_modules/@octokit/webhooks/'))).toEqual([]);
  });
});

describe("webhook-ingress publishes workflow_job details without the consumers' schema", () => {
  // the ingress builds the detail (normalize.ts) and never parses one: WorkflowJobDetailSchema is
  // the consumers' (runner-job-watch); the ingress takes the event's names from workflow-job-names.ts
  it('bundles the names, not shared/github/workflow-job-event.ts', async () => {
    const inputs = await inputsOf('functions/webhook-ingress/index.ts');
    expect(inputs).not.toContain('shared/github/workflow-job-event.ts');
  });
});

describe('runner-drain bundles only what its Lambda runs', () => {
  // its deployment declaration (triggers, IAM, reads: definition.ts; the Lambda takes runtime.ts),
  // routeByScope's schedule and direct-event routes (its events all come through its queue:
  // queue-scopes.ts), the approval gate's path (no gated action: performUngated) and the down-scoped
  // App auth of read-only registries (READ_ACCESS): 3.1 KB it carried and never ran
  it('leaves out the declaration, the schedule routing, the approval gate and down-scoped auth', async () => {
    const { inputs, code } = await bundleOf('functions/runner-drain/index.ts');
    expect(inputs).not.toContain('functions/runner-drain/definition.ts');
    expect(inputs).not.toContain('shared/github/scoped-app-auth.ts');
    for (const unused of [
      'TerminateHookRule',
      'autoscaling:DescribeScalingActivities',
      'scopes failed',
      'needs approval to',
    ])
      expect(code, unused).not.toContain(unused);
  });
});

describe('bundle floors (bench/bundles.bench.ts ratios)', () => {
  it("a function's floor creates the clients its code sends commands with, and sends those commands", () => {
    const src = floorSource(sdkUseOf('functions/dns-sync/index.ts'));
    for (const c of ['Route53Client', 'EC2Client', 'SQSClient', 'DynamoDBClient'])
      expect(src).toContain(`new ${c}(`);
    for (const c of [
      'ChangeResourceRecordSetsCommand',
      'ListResourceRecordSetsCommand',
      'DescribeInstancesCommand',
      'ChangeMessageVisibilityCommand',
      'PutItemCommand', // the audit record
    ])
      expect(src).toContain(`send(new ${c}(`);
    // clients.ts imports every client class; one without a command drops out of the bundle
    expect(src).not.toContain('SecretsManagerClient');
  });

  it('a function that calls GitHub has the GitHub client in its floor: Octokit, its plugins, App auth', () => {
    const use = sdkUseOf('functions/runner-drain/index.ts');
    expect([...use.github].sort()).toEqual([
      '@octokit/auth-app',
      '@octokit/core',
      '@octokit/plugin-paginate-rest',
      '@octokit/plugin-retry',
      '@octokit/plugin-throttling',
    ]);
    const src = floorSource(use);
    expect(src).toContain('Octokit.plugin(paginateRest, retry, throttling)');
    expect(src).toContain('authStrategy: createAppAuth');
    expect(src).toContain('.request(event.route, event.params)');
    // webhook verification is not a client: it stays the function's own
    const ingress = sdkUseOf('functions/webhook-ingress/index.ts');
    expect([...ingress.github]).toEqual([]);
    expect(floorSource(ingress)).not.toContain('@octokit');
    expect(floorSource(sdkUseOf('functions/dns-sync/index.ts'))).not.toContain('@octokit');
  });

  it('counts the DynamoDB calls a library makes for the function (Powertools idempotency)', () => {
    const src = floorSource(sdkUseOf('functions/webhook-ingress/index.ts'));
    for (const c of [
      'PutItemCommand',
      'GetItemCommand',
      'UpdateItemCommand',
      'DeleteItemCommand',
      'PutEventsCommand',
    ])
      expect(src).toContain(`send(new ${c}(`);
  });

  it('measures a function and its floor as deployed (the synthesized NODE_OPTIONS, no source maps)', async () => {
    const [f] = await measureBundles(1, (e) => e.includes('runner-job-watch'));
    expect(f?.entry).toBe('runner-job-watch');
    expect(f?.nodeOptions).not.toContain('--enable-source-maps');
    expect(f?.floor.bytes).toBeGreaterThan(0);
    expect(f?.fn.bytes).toBeGreaterThan(f?.floor.bytes ?? 0);
    for (const side of [f?.fn.init, f?.floor.init, f?.withSourceMaps]) expect(side?.cpuMs).toBeGreaterThan(0);
    expect(f?.fn.init.rssMiB).toBeGreaterThan(0);
  });

  // Issue 15's target: bundle <= 1.3x the function's floor. Met since the X-Ray SDK left the
  // default bundle (SDK-call tracing is opt-in); audit-correlate and approvals-expire since their
  // schemas are zod/mini; runner-drain since zod/mini and since its floor has the GitHub client
  // (against a floor without it: 1.54x; README "Cold start"). Bundle bytes are deterministic, so
  // asserted here; init times are printed by the bench, never asserted.
  const MEETS_TARGET = [
    'approvals-expire',
    'audit-correlate',
    'dns-reconcile',
    'dns-sync',
    'orphaned-volumes',
    'runner-drain',
    'runner-job-watch',
    'runner-sweep',
    'webhook-ingress',
  ];
  // Above the target, each pinned at its measured ratio so it cannot grow unnoticed; what keeps it
  // above (esbuild metafile, KB over the floor) is in README "Cold start". None since JMESPath left
  // webhook-ingress (1.345x before).
  const ABOVE_TARGET: Record<string, number> = {};

  // Under the target and pinned at its measured ratio, so that what it grows by shows: runner-drain
  // was 163 B under 1.3x until it stopped bundling what its Lambda never runs (609,717 B against a
  // floor of 471,298 B: 1.2937x, README "Cold start"); its 16 error classes spelling their names
  // (+364 B; minified class names are unreadable) and the warm-pool look telling a launch from a
  // return (+107 B net) made it 610,188 B: 1.29470x; its drains looking the documented names up once
  // every 5 min while a runner is busy (not every look: the App's rate limit) took +169 B: 610,357 B,
  // 1.29506x, over the 1.295 pin, so the pin is 1.296 (610,802 B); a feature that needs more raises it, and says so.
  // Ratios are compared exact, not rounded (1.3005 is not 1.3).
  const PINNED_UNDER_TARGET: Record<string, number> = { 'runner-drain': 1.296 };

  it('bundle at most 1.3x the floor where met; the others no larger than measured', async () => {
    const entries = [...deployedFunctions().keys()].sort();
    // every function the fleet can deploy, the opt-in ones (approvals, orphaned-volumes) included
    expect(entries).toEqual(ENTRIES.sort());
    built ??= bundleSizes(entries);
    const sizes = await built;
    const ratios = Object.fromEntries(sizes.map((s) => [s.entry, s.fn / s.floor]));
    expect(Object.keys(ratios).sort()).toEqual([...MEETS_TARGET, ...Object.keys(ABOVE_TARGET)].sort());
    for (const name of MEETS_TARGET) expect(ratios[name], name).toBeLessThanOrEqual(1.3);
    for (const [name, pin] of Object.entries(PINNED_UNDER_TARGET))
      expect(ratios[name], name).toBeLessThanOrEqual(pin);
    for (const [name, ceiling] of Object.entries(ABOVE_TARGET))
      expect(ratios[name], name).toBeLessThanOrEqual(ceiling);
  });

  it('the deployed fleet starts node as the bench does: no NODE_OPTIONS, no exec wrapper', () => {
    const envs = [...deployedFunctions().values()];
    expect(envs.length).toBeGreaterThan(0);
    for (const env of envs) {
      expect(env.NODE_OPTIONS).toBeUndefined();
      expect(env.AWS_LAMBDA_EXEC_WRAPPER).toBeUndefined();
    }
  });
});
