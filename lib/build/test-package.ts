/**
 * `npm run test:package` (after `npm run build`; part of `npm test`): does fleetwarden work outside
 * its checkout? Packs the library as npm would publish it, installs the tarball into a copy of
 * examples/consumer, type-checks the consumer against the shipped declarations, synthesizes it (the
 * functions bundled from the installed package with esbuild) and runs the installed `fleetwarden`
 * bin. Any failure exits 1; the temp copy is kept to look at.
 *
 * Offline install: npm's cache here holds the tarballs but not the registry metadata npm needs to
 * resolve ranges (`npm install --offline aws-cdk-lib` fails with ENOTCACHED), so the tarball is
 * unpacked into node_modules/fleetwarden as npm would, and ONLY the dependencies the consumer and
 * the packed package.json declare are linked in from this checkout's node_modules: an import of an
 * undeclared package fails here as it would for a user.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TYPES_PROBE } from './types-probe';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const timings: string[] = [];

function run(label: string, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const started = performance.now();
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  timings.push(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (r.status !== 0) {
    throw new Error(
      `${label} failed (${cmd} ${args.join(' ')}, exit ${r.status}):\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

function pack(dest: string): Packed {
  const out = run(
    'npm pack',
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dest],
    ROOT,
  );
  const [packed] = JSON.parse(out) as Packed[];
  if (!packed) throw new Error('npm pack reported no tarball');
  return packed;
}

type Manifest = Record<'dependencies' | 'devDependencies' | 'peerDependencies', Record<string, string>>;

/** `npm install <tarball>` from what is on disk: unpack, link the declared dependencies, link the bin. */
function install(tarball: string, app: string): void {
  const started = performance.now();
  const modules = join(app, 'node_modules');
  const pkgDir = join(modules, 'fleetwarden');
  mkdirSync(pkgDir, { recursive: true });
  run('unpack', 'tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'], app);
  const declared = (file: string, keys: (keyof Manifest)[]) => {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Partial<Manifest>;
    return keys.flatMap((k) => Object.keys(manifest[k] ?? {}));
  };
  const needed = new Set([
    ...declared(join(app, 'package.json'), ['dependencies', 'devDependencies']),
    ...declared(join(pkgDir, 'package.json'), ['dependencies', 'peerDependencies']),
  ]);
  needed.delete('fleetwarden');
  for (const name of needed) {
    const target = realpathSync(join(ROOT, 'node_modules', name));
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(target, join(modules, name), 'dir');
  }
  mkdirSync(join(modules, '.bin'));
  for (const name of [...needed, 'fleetwarden']) linkBins(modules, name);
  chmodSync(join(pkgDir, 'dist/cli.mjs'), 0o755);
  timings.push(
    `install ${((performance.now() - started) / 1000).toFixed(1)} s (${needed.size} dependencies)`,
  );
}

/** node_modules/.bin links of a top-level package's bins, as npm makes them (CDK runs `npx esbuild`). */
function linkBins(modules: string, name: string): void {
  const manifest = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bins =
    typeof manifest.bin === 'string' ? { [name.split('/').pop() ?? name]: manifest.bin } : manifest.bin;
  for (const [bin, file] of Object.entries(bins ?? {})) {
    symlinkSync(join('..', name, file), join(modules, '.bin', bin));
  }
}

/** The synthesized stack: every Lambda function's code is an asset folder holding the esbuild bundle. */
function checkAssembly(outdir: string): number {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stack = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
  const file = stack?.properties?.templateFile;
  if (!file) throw new Error('the consumer app synthesized no stack');
  const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { Code?: { S3Key?: unknown } } }>;
  };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  for (const fn of functions) {
    // the code's S3 key is `<asset hash>.zip`; the staged asset folder is `asset.<hash>`
    const hash = String(fn.Properties?.Code?.S3Key ?? '').replace(/\.zip$/, '');
    if (!hash || !readdirSync(join(outdir, `asset.${hash}`)).includes('index.mjs'))
      throw new Error(`a function's asset ${hash || '(none)'} holds no index.mjs bundle`);
  }
  if (functions.length === 0) throw new Error('the consumer stack has no function');
  return functions.length;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'fleetwarden-package-'));
  const started = performance.now();
  const packed = pack(work);
  const app = join(work, 'consumer');
  cpSync(join(ROOT, 'examples/consumer'), app, {
    recursive: true,
    filter: (src) => !/(node_modules|cdk\.out)$/.test(src),
  });
  writeFileSync(join(app, 'bin/types-probe.ts'), TYPES_PROBE);
  install(join(work, packed.filename), app);
  run('tsc (consumer)', process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], app);
  const outdir = join(app, 'cdk.out');
  run('synth (consumer)', process.execPath, ['--import', 'tsx', 'bin/app.ts'], app, { CDK_OUTDIR: outdir });
  const functions = checkAssembly(outdir);
  const version = run('fleetwarden --version', 'node_modules/.bin/fleetwarden', ['--version'], app).trim();
  const expected = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
  if (version !== expected)
    throw new Error(`installed fleetwarden --version says ${version}, not ${expected}`);
  const help = run('npx fleetwarden --help', 'npx', ['--offline', 'fleetwarden', '--help'], app);
  // the usage line and every command's, from the installed tarball through npm's own bin resolution
  if (
    !help.startsWith('Usage: fleetwarden [options] [command]') ||
    !help.includes('timeline [options] <subject>')
  )
    throw new Error(`npx fleetwarden --help printed no usage:\n${help}`);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `package ${packed.filename}: ${kb(packed.size)} packed, ${kb(packed.unpackedSize)} unpacked, ${packed.entryCount} files`,
  );
  console.log(`consumer synthesized with ${functions} functions bundled from the installed package`);
  console.log(`${timings.join(', ')}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  rmSync(work, { recursive: true, force: true });
}

try {
  main();
} catch (err) {
  console.error(`test:package: ${(err as Error).message}`);
  process.exitCode = 1;
}
