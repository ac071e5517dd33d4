/**
 * CLI startup: the `fleetwarden` bin laid out as `npm install` leaves it (the esbuild bundle of
 * `npm run build`: the entry dist/cli.mjs and the chunks it loads on demand, the package.json beside
 * it, the node_modules/.bin link), timed for `--help`, `--version`, `timeline --audit-file` and
 * `npx fleetwarden --help`, each in ms and as a ratio against `node -e 0` measured in the same run
 * (the machine's own floor). npm's own overhead is measured apart: `npx --call "node -e 0"`.
 * The goal: under 1 s; the dev path (tsx) took 13-15 s. Printed, never asserted (the test checks
 * what each path loads, which does not depend on the machine's speed).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { buildCli } from '../lib/build/build';
import { AuditRecordSchema } from '../shared/audit/schema';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Packages that must never load on the `--help` path (they are what made startup slow). */
export const isHeavyPackage = (name: string): boolean =>
  /^@(aws-sdk|smithy|aws-lambda-powertools|octokit)\//.test(name) ||
  ['zod', '@modelcontextprotocol/sdk', 'aws-xray-sdk-core'].includes(name);

/** Where each command's work lives: loaded only when that command runs. */
export const COMMAND_WORK = [
  'cli/timeline/',
  'cli/doctor/',
  'cli/posture/',
  'cli/mcp/',
  'cli/aws-clients.ts',
];

export interface InstalledCli {
  dir: string;
  /** The installed package's folder (node_modules/fleetwarden). */
  pkgDir: string;
  bin: string;
  version: string;
  auditFile: string;
  subject: string;
  metafile: Metafile;
  /** Source files (relative to the repository) bundled into these output files. */
  sourcesOf(files: readonly string[]): string[];
}

function auditFile(path: string, subject: string): void {
  const time = '2026-11-24T10:00:00.000Z';
  const record = AuditRecordSchema.parse({
    schemaVersion: 1,
    recordId: 'bench-1',
    time,
    function: 'dns-sync',
    trigger: { source: 'aws.ec2', id: 'evt-bench-1' },
    subject: { instanceId: subject },
    action: 'dns.delete',
    decision: 'acted',
    reason: 'instance terminated',
    mode: 'live',
    calls: [{ service: 'EC2', operation: 'DescribeInstances', time, requestId: 'r', outcome: 'success' }],
    correlation: { status: 'pending', attempts: 0, calls: [] },
  });
  writeFileSync(path, JSON.stringify([record]));
}

/** A temp folder where `fleetwarden` is installed as npm would from the packed package. */
export async function installCli(): Promise<InstalledCli> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetwarden-cli-'));
  const pkgDir = join(dir, 'node_modules/fleetwarden');
  mkdirSync(join(pkgDir, 'dist'), { recursive: true });
  const metafile = await buildCli(join(pkgDir, 'dist'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    bin: object;
  };
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg));
  mkdirSync(join(dir, 'node_modules/.bin'));
  const bin = join(dir, 'node_modules/.bin/fleetwarden');
  symlinkSync('../fleetwarden/dist/cli.mjs', bin);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
  const subject = 'i-0abc12345';
  auditFile(join(dir, 'audit.json'), subject);
  const sourcesOf = (files: readonly string[]) =>
    files.flatMap((f) => Object.keys(outputOf(metafile, pkgDir, f)?.inputs ?? {}));
  return {
    dir,
    pkgDir,
    bin,
    version: pkg.version,
    auditFile: join(dir, 'audit.json'),
    subject,
    metafile,
    sourcesOf,
  };
}

function outputOf(metafile: Metafile, pkgDir: string, file: string) {
  const entry = Object.entries(metafile.outputs).find(
    ([out]) => out.endsWith(file) || join(ROOT, out) === join(pkgDir, file),
  );
  return entry?.[1];
}

/** npm packages (by name) bundled into these output files. */
export function packagesIn(cli: InstalledCli, files: readonly string[]): string[] {
  const names = cli
    .sourcesOf(files)
    .map((s) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

/** The tracer: a module hook that appends every file URL Node loads to $FLEETWARDEN_TRACE. */
const TRACE_HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.FLEETWARDEN_TRACE, url + '\\n');
  return next(url, context);
}`;

/** The package's files (relative to its folder) that Node loads to run `fleetwarden <args>`. */
export function loadedBy(cli: InstalledCli, args: string[]): string[] {
  const hooks = join(cli.dir, 'trace-hooks.mjs');
  const register = join(cli.dir, 'trace-register.mjs');
  writeFileSync(hooks, TRACE_HOOKS);
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const trace = join(cli.dir, `trace-${Date.now()}.txt`);
  writeFileSync(trace, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, cli.bin, ...args], {
    cwd: cli.dir,
    encoding: 'utf8',
    env: { ...process.env, FLEETWARDEN_TRACE: trace },
  });
  if (r.status !== 0 && r.status !== 3)
    throw new Error(`fleetwarden ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  rmSync(trace);
  const files = urls.map((u) => relative(cli.pkgDir, fileURLToPath(u))).filter((f) => !f.startsWith('..'));
  return [...new Set(files)];
}

/** Median wall time (ms) of `runs` runs of a command that must succeed. */
function median(cmd: string, args: string[], cwd: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? Number.NaN;
}

export interface StartupRow {
  name: string;
  ms: number;
  /** ms / the `node -e 0` floor of the same run. */
  ratio: number;
}

export interface StartupReport {
  floorMs: number;
  /** Under 1 s as a ratio of this machine's `node -e 0`: 1000 / floorMs. */
  targetRatio: number;
  rows: StartupRow[];
  lines: string[];
}

export interface StartupOptions {
  runs?: number;
  npxRuns?: number;
  print?: (line: string) => void;
  /** An installed CLI to time (default: one installed for the run, then removed). */
  cli?: InstalledCli;
}

export async function run(options: StartupOptions = {}): Promise<StartupReport> {
  const { runs = 7, npxRuns = 3, print = console.log } = options;
  const cli = options.cli ?? (await installCli());
  const at = (cmd: string, args: string[], n = runs) => median(cmd, args, cli.dir, n);
  const measured: [string, number][] = [
    ['node -e 0', at(process.execPath, ['-e', '0'])],
    ['fleetwarden --help', at(cli.bin, ['--help'])],
    ['fleetwarden --version', at(cli.bin, ['--version'])],
    [
      'fleetwarden timeline --audit-file',
      at(cli.bin, ['timeline', cli.subject, '--audit-file', cli.auditFile]),
    ],
    ['npx --call "node -e 0" (npx floor)', at('npx', ['--offline', '--call', 'node -e 0'], npxRuns)],
    ['npx fleetwarden --help', at('npx', ['--offline', 'fleetwarden', '--help'], npxRuns)],
  ];
  const floorMs = measured[0]?.[1] ?? Number.NaN;
  const rows = measured.map(([name, ms]) => ({ name, ms, ratio: ms / floorMs }));
  const targetRatio = 1000 / floorMs;
  const lines = [
    `target: < 1 s, i.e. ratio <= ${targetRatio.toFixed(1)} at this machine's node -e 0 (${floorMs.toFixed(0)} ms, median of ${runs}; npx rows: median of ${npxRuns})`,
    ...rows.map(
      (r) =>
        `${r.name}: ${r.ms.toFixed(0)} ms, ${r.ratio.toFixed(2)}x node -e 0 (${r.ms < 1000 ? 'under 1 s' : 'OVER 1 s'})`,
    ),
    `npx's own overhead: ${((rows[4]?.ms ?? 0) - floorMs).toFixed(0)} ms over node -e 0`,
  ];
  for (const line of lines) print(line);
  if (!options.cli) rmSync(cli.dir, { recursive: true, force: true });
  return { floorMs, targetRatio, rows, lines };
}
