import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function inputsOf(entry: string): Promise<string[]> {
  const r = await build({
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
    // its deletion asks the approval gate: the entry's dynamic import bundles the wiring
    ['functions/orphaned-volumes/index.ts', ['client-ec2', 'client-sns'], ['client-route-53']],
  ])('%s', async (entry, present, absent) => {
    const inputs = (await inputsOf(entry)).join('\n');
    for (const p of present) expect(inputs, p).toContain(`@aws-sdk/${p}/`);
    for (const a of absent) expect(inputs, a).not.toContain(`@aws-sdk/${a}/`);
  });
});
