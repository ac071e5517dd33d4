/**
 * Bundle size and module init time of every fleet function, bundled the way FleetFunction bundles
 * it (esbuild, ESM, minified, node22, every dependency inlined) from the entries found in the
 * synthesized stack. Init time: a fresh `node` process importing the bundle (median of 5), the
 * part of a cold start the code controls. Compared with the same handler bundled without
 * minification (what an unopinionated NodejsFunction gives).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { synthesizeFleet } from '../cli/simulate/routing';

const BANNER =
  "import { createRequire as __fwCreateRequire } from 'node:module';const require = __fwCreateRequire(import.meta.url);";

export interface BundleFigure {
  entry: string;
  bytes: number;
  unminifiedBytes: number;
  initMs: number;
}

async function bundle(entry: string, outfile: string, minify: boolean): Promise<number> {
  await build({
    entryPoints: [resolve(entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify,
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

function initMs(file: string, runs = 5): number {
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(performance.now()-t));`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

export async function measureBundles(runs = 5): Promise<BundleFigure[]> {
  const routing = synthesizeFleet({ dryRun: false });
  const entries = [...new Set([...routing.functions.values()].map((f) => f.entry))].sort();
  const dir = mkdtempSync(join(tmpdir(), 'fw-bundles-'));
  try {
    const out: BundleFigure[] = [];
    for (const entry of entries) {
      const name = entry.replace(/^functions\/|\/(handler|index)\.ts$/g, '');
      const file = join(dir, `${name}.mjs`);
      const unminifiedBytes = await bundle(entry, join(dir, `${name}.full.mjs`), false);
      const bytes = await bundle(entry, file, true);
      out.push({ entry: name, bytes, unminifiedBytes, initMs: initMs(file, runs) });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const figures = await measureBundles();
  console.log('function            bundle   (unminified, ratio)     module init (median of 5, fresh node)');
  for (const f of figures) {
    console.log(
      `${f.entry.padEnd(18)}  ${(f.bytes / 1024).toFixed(0).padStart(5)} KB  (${(f.unminifiedBytes / 1024).toFixed(0).padStart(5)} KB, ${(f.unminifiedBytes / f.bytes).toFixed(1)}x)   ${f.initMs.toFixed(0).padStart(4)} ms`,
    );
  }
}
