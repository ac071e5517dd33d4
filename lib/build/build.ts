/**
 * `npm run build`: the package as npm ships it, in dist/.
 *   dist/lib/index.js    the library: lib/index.ts bundled (ESM, dependencies external). It sits two
 *                        folders below the package root like infra/constructs/*.ts, so their
 *                        `new URL('../../functions/<name>/index.ts', import.meta.url)` finds the
 *                        function sources the package ships, which FleetFunction bundles at synth.
 *   dist/**.d.ts         declarations (TypeScript 7's tsc -p tsconfig.build.json), specifiers made
 *                        explicit; the consumer test type-checks them with TypeScript 5.9.
 *   dist/cli.mjs         the `fleetwarden` bin: cli/ bundled, no tsx at run time; each command's
 *   dist/cli-*.mjs       work in a chunk loaded when that command runs.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { cliEntrySource } from './cli-entry';
import { withExplicitExtensions } from './specifiers';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');

function declarations(): void {
  // TypeScript 7, the native compiler (package.json `typescript-native`): 3x faster than 5.9 here
  const tsc = join(ROOT, 'node_modules/typescript-native/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${run.status})`);
  for (const file of readdirSync(DIST, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.d.ts')) continue;
    const path = join(DIST, file);
    const target = (spec: string) => {
      const base = resolve(dirname(path), spec);
      if (existsSync(`${base}.d.ts`)) return 'file' as const;
      return existsSync(join(base, 'index.d.ts')) ? ('dir' as const) : undefined;
    };
    writeFileSync(path, withExplicitExtensions(readFileSync(path, 'utf8'), target));
  }
}

async function library(): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'lib/index.ts')],
    outfile: join(DIST, 'lib/index.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // no source map: the bundle is not minified, so a synth-time stack trace reads as it is
    logLevel: 'warning',
  });
}

/**
 * The CLI bundles its dependencies too (minified), split in chunks: the entry `<outdir>/cli.mjs`
 * holds the program and every command's options (all `--help` and `--version` need); a command's
 * work (cli/<area>/run.ts: the AWS SDK, zod, the MCP SDK) is a chunk it imports when it runs
 * (bench/cli-startup.bench.ts). Chunks sit beside the entry (`cli-*.mjs`), so a module's
 * `import.meta.url` finds ../package.json from either. Returns esbuild's metafile (which sources each
 * output file holds).
 */
export async function buildCli(outdir = DIST): Promise<Metafile> {
  const commands = readdirSync(join(ROOT, 'cli/commands'));
  const entry = 'fleetwarden:cli-entry';
  const result = await build({
    entryPoints: [{ in: entry, out: 'cli' }],
    plugins: [
      {
        name: 'cli-entry',
        setup(b) {
          b.onResolve({ filter: /^fleetwarden:cli-entry$/ }, () => ({ path: entry, namespace: 'cli-entry' }));
          b.onLoad({ filter: /.*/, namespace: 'cli-entry' }, () => ({
            contents: cliEntrySource(commands),
            resolveDir: join(ROOT, 'cli'),
            loader: 'ts',
          }));
        },
      },
    ],
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'cli-[name]-[hash]',
    splitting: true,
    absWorkingDir: ROOT,
    metafile: true,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    // CommonJS dependencies (the X-Ray SDK) call require(): give each ES module one
    banner: {
      js: "import { createRequire as __fwCreateRequire } from 'node:module';const require = __fwCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
    logOverride: { 'import-is-undefined': 'silent' },
  });
  chmodSync(join(outdir, 'cli.mjs'), 0o755); // npm does this on install; the checkout's own `node dist/cli.mjs` needs it too
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  rmSync(DIST, { recursive: true, force: true });
  declarations();
  await Promise.all([library(), buildCli()]);
  console.log(`built ${DIST}`);
}
