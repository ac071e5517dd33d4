/**
 * Bundle size, module init and peak memory of every fleet function, each as a ratio to its own
 * FLOOR: a minimal handler that creates the same AWS SDK clients (and, for a function that calls
 * GitHub, the same GitHub client) and sends the same commands, nothing else (bench/bundle-floor.ts
 * builds it). Both are bundled the way FleetFunction bundles
 * (FUNCTION_BUNDLING: esbuild, ESM, minified, node22, every dependency inlined, a linked source map,
 * SDK-call tracing off, JMESPath aliased away)
 * and measured as deployed: a fresh `node` process with the function's synthesized environment
 * (its NODE_OPTIONS included) importing the bundle; median of N. Init is printed as wall ms and as
 * CPU ms (the CPU figure holds on a loaded machine). Also printed: the init cost of loading the
 * source maps at run time (`--enable-source-maps`), which FleetFunction no longer sets.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { synthesizeFleet } from '../cli/simulate/routing';
import { FUNCTION_BUNDLING } from '../infra/constructs/fleet-function';
import { floorSource, sdkUseOf } from './bundle-floor';

export interface InitFigure {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
}
export interface BundleSide {
  bytes: number;
  init: InitFigure;
}
export interface BundleFigure {
  entry: string;
  nodeOptions: string;
  fn: BundleSide;
  floor: BundleSide;
  /** the function's init with `--enable-source-maps` added (what FleetFunction deployed before) */
  withSourceMaps: InitFigure;
}

const ROOT = resolve(import.meta.dirname ?? '.', '..');

/**
 * The `alias` FleetFunction's esbuild runs with, read back from the `--alias:<name>=<path>` flags it
 * passes (FUNCTION_ALIAS), so the bench bundles as deployed. Any other `esbuildArgs` is refused
 * until it is mirrored here.
 */
export function esbuildAliasOf(bundling: { esbuildArgs?: Record<string, string | boolean | string[]> }) {
  const alias: Record<string, string> = {};
  for (const [flag, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    if (flag !== '--alias') throw new Error(`bench/bundles.bench.ts does not mirror esbuild's ${flag} yet`);
    for (const entry of [value].flat()) {
      const [name, path] = String(entry).split('=');
      if (!name || !path) throw new Error(`--alias:${entry} is not <name>=<path>`);
      alias[name] = path;
    }
  }
  return alias;
}

/** esbuild options equivalent to FleetFunction's bundling (aws-lambda-nodejs passes these flags). */
function esbuildOptions(outfile: string): BuildOptions {
  return {
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap ? 'linked' : false,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    mainFields: FUNCTION_BUNDLING.mainFields,
    banner: { js: FUNCTION_BUNDLING.banner ?? '' },
    define: FUNCTION_BUNDLING.define,
    alias: esbuildAliasOf(FUNCTION_BUNDLING),
    logLevel: 'silent',
    // aws-lambda-nodejs runs esbuild in the project root: the alias paths resolve from there
    absWorkingDir: ROOT,
  };
}

async function bundleEntry(entry: string, outfile: string): Promise<number> {
  return (await bundleWithInputs(entry, outfile)).bytes;
}

/** What a function's bundle holds: its bytes, the inputs esbuild put in (bytes in the output), the code. */
export interface BundleContents {
  bytes: number;
  inputs: string[];
  code: string;
}

async function bundleWithInputs(entry: string, outfile: string): Promise<BundleContents> {
  const r = await build({ ...esbuildOptions(outfile), entryPoints: [resolve(ROOT, entry)], metafile: true });
  const out = Object.entries(r.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1];
  const inputs = Object.entries(out?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
  return { bytes: statSync(outfile).size, inputs, code: readFileSync(outfile, 'utf8') };
}

async function bundleFloor(entry: string, outfile: string): Promise<number> {
  await build({
    ...esbuildOptions(outfile),
    stdin: { contents: floorSource(sdkUseOf(entry, ROOT)), resolveDir: ROOT, loader: 'js' },
  });
  return statSync(outfile).size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Module init of a bundle in a fresh node process with the given environment; medians of `runs`.
 * Peak memory is the process's VmHWM (Linux): getrusage's maxRSS carries the parent's peak across exec.
 */
export function measureInit(file: string, env: Record<string, string>, runs: number): InitFigure {
  const script = `const c=process.cpuUsage();const t=performance.now();await import(${JSON.stringify(`file://${file}`)});const w=performance.now()-t;const u=process.cpuUsage(c);const {readFileSync}=await import('node:fs');const hwm=/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status','utf8'))?.[1];process.stdout.write(JSON.stringify({wallMs:w,cpuMs:(u.user+u.system)/1000,rssMiB:Number(hwm)/1024}));`;
  const figures: InitFigure[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      // the SDK's Node-version notice on stderr would bury the figures
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    figures.push(JSON.parse(out) as InitFigure);
  }
  return {
    wallMs: median(figures.map((f) => f.wallMs)),
    cpuMs: median(figures.map((f) => f.cpuMs)),
    rssMiB: median(figures.map((f) => f.rssMiB)),
  };
}

/** The environment a deployed function starts with (synthesized; tokens become placeholders). */
function deployedEnv(env: Record<string, string>): Record<string, string> {
  return { AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT', ...env };
}

/**
 * Every function the fleet can deploy (entry -> synthesized environment): the repository's fleet
 * config with the opt-in parts switched on, approvals and the orphaned-volumes remediation, so
 * approvals-expire and orphaned-volumes are measured too.
 */
export function deployedFunctions(): Map<string, Record<string, string>> {
  const routing = synthesizeFleet({
    dryRun: false,
    remediations: { 'orphaned-volumes': {} },
    approvals: { approvers: ['arn:aws:iam::123456789012:role/OnCall'] },
  });
  return new Map([...routing.functions.values()].map((f) => [f.entry, f.env]));
}

const nameOf = (entry: string) => entry.replace(/^functions\/|\/(handler|index)\.ts$/g, '');

/**
 * Bundle bytes of each function and of its floor, nothing run (what the ratio test asserts), and
 * what each function's bundle holds (its inputs and code: what the content tests read, from the
 * same build).
 */
export async function bundleSizes(
  entries: string[],
): Promise<{ entry: string; fn: number; floor: number; contents: BundleContents }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-bundle-sizes-'));
  try {
    const out: { entry: string; fn: number; floor: number; contents: BundleContents }[] = [];
    for (const entry of entries) {
      const name = nameOf(entry);
      const contents = await bundleWithInputs(entry, join(dir, `${name}.mjs`));
      const floor = await bundleFloor(entry, join(dir, `${name}.floor.mjs`));
      out.push({ entry: name, fn: contents.bytes, floor, contents });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureBundles(runs = 5, only?: (entry: string) => boolean): Promise<BundleFigure[]> {
  const byEntry = deployedFunctions();
  const entries = [...byEntry.keys()].filter((e) => !only || only(e)).sort();
  const dir = mkdtempSync(join(tmpdir(), 'fw-bundles-'));
  try {
    const out: BundleFigure[] = [];
    for (const entry of entries) {
      const name = nameOf(entry);
      const env = deployedEnv(byEntry.get(entry) ?? {});
      const fnFile = join(dir, `${name}.mjs`);
      const floorFile = join(dir, `${name}.floor.mjs`);
      const fn = { bytes: await bundleEntry(entry, fnFile), init: measureInit(fnFile, env, runs) };
      const floor = { bytes: await bundleFloor(entry, floorFile), init: measureInit(floorFile, env, runs) };
      const mapsOn = `${env.NODE_OPTIONS ?? ''} --enable-source-maps`.trim();
      const withSourceMaps = measureInit(fnFile, { ...env, NODE_OPTIONS: mapsOn }, runs);
      out.push({ entry: name, nodeOptions: env.NODE_OPTIONS ?? '', fn, floor, withSourceMaps });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

export async function run(): Promise<void> {
  const figures = await measureBundles();
  console.log(
    'per function, as a ratio to its floor (same SDK clients, GitHub client and commands, nothing else); init: fresh node, median of 5',
  );
  console.log(
    'function            bundle KB (floor, ratio)    init wall ms (floor, ratio)   init CPU ms (floor, ratio)   peak MiB (floor, ratio)   +source maps at run time',
  );
  for (const f of figures) {
    const kb = (b: number) => (b / 1024).toFixed(0);
    console.log(
      `${f.entry.padEnd(18)}  ${kb(f.fn.bytes).padStart(5)} (${kb(f.floor.bytes).padStart(4)}, ${x(f.fn.bytes, f.floor.bytes)})` +
        `   ${f.fn.init.wallMs.toFixed(0).padStart(5)} (${f.floor.init.wallMs.toFixed(0).padStart(4)}, ${x(f.fn.init.wallMs, f.floor.init.wallMs)})` +
        `     ${f.fn.init.cpuMs.toFixed(0).padStart(5)} (${f.floor.init.cpuMs.toFixed(0).padStart(4)}, ${x(f.fn.init.cpuMs, f.floor.init.cpuMs)})` +
        `      ${f.fn.init.rssMiB.toFixed(0).padStart(4)} (${f.floor.init.rssMiB.toFixed(0).padStart(3)}, ${x(f.fn.init.rssMiB, f.floor.init.rssMiB)})` +
        `     +${((f.withSourceMaps.cpuMs / f.fn.init.cpuMs - 1) * 100).toFixed(0)}% init CPU`,
    );
  }
  const deployed = [...new Set(figures.map((f) => f.nodeOptions || '(none)'))].join(', ');
  console.log(`NODE_OPTIONS as deployed: ${deployed}; init measured with it.`);
}
