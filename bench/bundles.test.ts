import { readdirSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLING, functionBundling } from '../infra/constructs/fleet-function';
import { floorSource, sdkUseOf } from './bundle-floor';
import { measureBundles } from './bundles.bench';

const ENTRIES = readdirSync('functions', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `functions/${d.name}/index.ts`);

const built = new Map<string, Promise<string[]>>();

/** Each entry is bundled once for every check below (a bundle takes seconds on 2 shared cores). */
function inputsOf(entry: string): Promise<string[]> {
  let inputs = built.get(entry);
  if (!inputs) {
    inputs = bundleInputs(entry);
    built.set(entry, inputs);
  }
  return inputs;
}

/** The inputs esbuild put into an entry's bundle, built with FleetFunction's options (its `define`). */
async function bundleInputs(entry: string, define = FUNCTION_BUNDLING.define): Promise<string[]> {
  const r = await build({
    define,
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
  return Object.entries(out?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
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

describe("function bundles leave zod's locales and unused parts out", () => {
  // `import { z } from 'zod'` (and Powertools' parser schemas, which import it so) keeps the whole
  // namespace, 258 KB of it error-message locales; `import * as z from 'zod'` lets esbuild shake it
  it.each(ENTRIES)('%s', async (entry) => {
    const inputs = await inputsOf(entry);
    expect(inputs.filter((i) => /node_modules\/zod\/.*locales\/(?!en\.)/.test(i))).toEqual([]);
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
});
