#!/usr/bin/env -S npx tsx
/**
 * Offline mode of the integration tests: synthesize every `integ/integ.*.ts` app (exactly what a
 * real run deploys) and compare its CloudFormation templates with the snapshot committed in
 * `integ/<file>.snapshot/`, so any change to what the tests deploy shows up in review.
 *
 *   npx tsx integ/snapshot.ts            verify (CI; exits 1 and prints the differences)
 *   npx tsx integ/snapshot.ts --update   rewrite the snapshots after a reviewed change
 *
 * Why not integ-runner's own snapshot mode: integ-runner 2.197.10 (the newest on npm) reads cloud
 * assembly schema 53, while aws-cdk-lib 2.276 writes schema 55, so it refuses our assembly; and this
 * directory holds normalised templates only, not the cloud assembly integ-runner verifies
 * (integ/README.md says what switching takes). Apps are synthesized through the cdk CLI, so cdk.json's
 * context applies exactly as in `integ:deploy`. Asset hashes and integ-tests-alpha's per-run `salt`
 * are normalised away: a code change alone is not a template change. So the snapshot synthesizes
 * without bundling (FLEETWARDEN_INTEG_NO_BUNDLING, integAppProps), and the app's own fixture
 * Lambdas are bundled by esbuild in this process instead (bundleFixtures): an entry that no longer
 * bundles still fails offline.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { INTEG_CLOCK_CONTEXT, INTEG_NO_BUNDLING_ENV } from './clock';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const ASSET_HASH = /[a-f0-9]{64}/g;

/** Replace asset hashes and assertion salts with placeholders, recursively. */
export function normaliseTemplate(template: unknown): Json {
  const walk = (value: unknown, key?: string): Json => {
    if (typeof value === 'string')
      return key === 'salt' ? '<salt>' : value.replace(ASSET_HASH, '<asset-hash>');
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    return value as Json;
  };
  return walk(template);
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Human-readable differences: `~ path: old -> new`, `- Resources.X (Type)`, `+ Resources.Y (Type)`. */
export function diffTemplates(before: Json, after: Json): string[] {
  const out: string[] = [];
  const typeOf = (v: Json | undefined) => (isObject(v) && typeof v.Type === 'string' ? ` (${v.Type})` : '');
  const walk = (a: Json | undefined, b: Json | undefined, path: string) => {
    if (isObject(a) && isObject(b)) {
      for (const k of Object.keys(a)) walk(a[k], b[k], path ? `${path}.${k}` : k);
      for (const k of Object.keys(b)) if (!(k in a)) walk(undefined, b[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const isResource = /^Resources\.[^.]+$/.test(path);
    if (b === undefined) out.push(isResource ? `- ${path}${typeOf(a)}` : `- ${path}: ${JSON.stringify(a)}`);
    else if (a === undefined)
      out.push(isResource ? `+ ${path}${typeOf(b)}` : `+ ${path}: ${JSON.stringify(b)}`);
    else out.push(`~ ${path}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  };
  walk(before, after, '');
  return out;
}

/**
 * Synthesize one integration app into `outdir` exactly as `integ:deploy` deploys it: through the cdk
 * CLI from the repository root, so cdk.json's context (feature flags included) and cdk.context.json
 * reach the app. Running the app with plain tsx would skip them and snapshot a different template
 * (e.g. without `@aws-cdk/aws-iam:minimizePolicies`). Path/asset metadata and the CDKMetadata
 * resource, which deploy but change nothing, are left out of the snapshot.
 */
const SNAPSHOT_CLOCK = '2026-11-24T08:00:00Z';

export function synth(app: string, outdir: string, opts: { bundle?: boolean } = {}): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const res = spawnSync(
    'npx',
    [
      'cdk',
      'synth',
      '--app',
      `npx tsx ${app}`,
      '--output',
      outdir,
      '--quiet',
      '--no-notices',
      // the signed webhook delivery carries the job's time (the ingress refuses jobs older than
      // maxJobAge): a fixed clock keeps the snapshot stable; integ:deploy signs with the real time
      '-c',
      `${INTEG_CLOCK_CONTEXT}=${SNAPSHOT_CLOCK}`,
      // bookkeeping the CLI adds and CloudFormation ignores: kept out of the reviewed snapshot
      '--no-version-reporting',
      '--no-path-metadata',
      '--no-asset-metadata',
    ],
    {
      cwd: root,
      // the snapshot normalises asset hashes away, so it needs no bundle: the app then bundles no
      // stack and no esbuild runs (integAppProps). `npm run synth` bundles the real app's
      // functions, `test:package` the consumer's
      env: opts.bundle === false ? { ...process.env, [INTEG_NO_BUNDLING_ENV]: '1' } : process.env,
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) {
    throw new Error(
      `cdk synth of ${app} failed (exit ${res.status}):\n${(res.stderr || res.stdout || String(res.error)).slice(-4000)}`,
    );
  }
}

const templates = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.template.json'));

export function main(argv: string[]): number {
  const update = argv.includes('--update');
  const here = dirname(fileURLToPath(import.meta.url));
  const apps = readdirSync(here).filter((f) => /^integ\..+\.ts$/.test(f) && !f.endsWith('.test.ts'));
  let failed = 0;
  for (const file of apps) {
    const started = Date.now();
    const out = mkdtempSync(join(tmpdir(), 'fleetwarden-integ-'));
    const snapshotDir = join(here, `${file}.snapshot`);
    try {
      process.stdout.write(`integ ${file}: synthesizing...`);
      synth(join(here, file), out, { bundle: false });
      const fresh = templates(out);
      if (update) {
        rmSync(snapshotDir, { recursive: true, force: true });
        mkdirSync(snapshotDir, { recursive: true });
        for (const t of fresh) {
          const body = normaliseTemplate(JSON.parse(readFileSync(join(out, t), 'utf8')));
          writeFileSync(join(snapshotDir, t), `${JSON.stringify(body, null, 1)}\n`);
        }
        console.log(` snapshot updated (${fresh.length} templates, ${Date.now() - started} ms)`);
        continue;
      }
      let committed: string[];
      try {
        committed = templates(snapshotDir);
      } catch {
        console.log(` NO SNAPSHOT at ${basename(snapshotDir)}/ (run: npm run integ:update)`);
        failed++;
        continue;
      }
      const problems: string[] = [];
      for (const t of new Set([...committed, ...fresh])) {
        if (!fresh.includes(t)) problems.push(`- stack ${t} (no longer synthesized)`);
        else if (!committed.includes(t)) problems.push(`+ stack ${t} (new)`);
        else {
          const before = JSON.parse(readFileSync(join(snapshotDir, t), 'utf8')) as Json;
          const after = normaliseTemplate(JSON.parse(readFileSync(join(out, t), 'utf8')));
          problems.push(...diffTemplates(before, after).map((d) => `${t}: ${d}`));
        }
      }
      if (problems.length === 0) {
        console.log(` matches the snapshot (${fresh.length} templates, ${Date.now() - started} ms)`);
      } else {
        failed++;
        console.log(` DIFFERS from the committed snapshot in ${problems.length} place(s):`);
        for (const p of problems.slice(0, 60)) console.log(`  ${p}`);
        if (problems.length > 60) console.log(`  ... and ${problems.length - 60} more`);
        console.log('  If the change is intended: npm run integ:update, review and commit the snapshot.');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  if (apps.length === 0) {
    console.log('no integ/integ.*.ts apps found');
    return 1;
  }
  if (!update) failed += bundleFixtures(join(here, 'fixtures'));
  return failed === 0 ? 0 : 1;
}

/**
 * The integration app's own Lambda entries (integ/fixtures: a file exporting `handler`), bundled
 * with esbuild in this process: the snapshot synthesizes without bundling, and no other offline
 * stage bundles them (`npm run synth` and the bundle bench take `functions/*`), so a fixture that
 * no longer bundles fails here, not first in `integ:deploy`. Returns 1 if any failed.
 */
export function bundleFixtures(dir: string): number {
  const entries = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .filter((f) => HANDLER_EXPORT.test(readFileSync(f, 'utf8')));
  const broken: string[] = [];
  for (const entry of entries) {
    try {
      buildSync({
        entryPoints: [entry],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        logLevel: 'silent',
      });
    } catch (err) {
      broken.push(`  ${basename(entry)}: ${(err as Error).message.split('\n').slice(0, 4).join(' ')}`);
    }
  }
  if (broken.length === 0) {
    console.log(`integ fixtures: ${entries.length} Lambda entries bundle (esbuild)`);
    return 0;
  }
  console.log(`integ fixtures: ${broken.length} of ${entries.length} Lambda entries do not bundle:`);
  for (const b of broken) console.log(b);
  return 1;
}

const HANDLER_EXPORT =
  /export\s+(?:const|let|async\s+function|function)\s+handler\b|export\s*\{[^}]*\bhandler\b[^}]*\}/;

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    process.exitCode = 2;
  }
}
