/**
 * CLI startup: the `fleetwarden` bin laid out as `npm install` leaves it (the esbuild bundle of
 * `npm run build`, the package.json beside it, the node_modules/.bin link), timed for `--help`,
 * `timeline --audit-file` and `npx fleetwarden --help`, each as a ratio against `node -e 0` measured
 * in the same run (the machine's own floor). The goal: under 1 s; the dev path (tsx) took 13-15 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../lib/build/build';
import { AuditRecordSchema } from '../shared/audit/schema';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface InstalledCli {
  dir: string;
  bin: string;
  version: string;
  auditFile: string;
  subject: string;
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
  await buildCli(join(pkgDir, 'dist/cli.mjs'));
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
  return { dir, bin, version: pkg.version, auditFile: join(dir, 'audit.json'), subject };
}

/** Median wall time (ms) of `runs` runs of a command that must succeed. */
function median(cmd: string, args: string[], cwd: string, runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? Number.NaN;
}

export async function run(): Promise<void> {
  const cli = await installCli();
  const floor = median(process.execPath, ['-e', '0'], cli.dir);
  const rows: [string, number][] = [
    ['fleetwarden --help', median(cli.bin, ['--help'], cli.dir)],
    [
      'fleetwarden timeline --audit-file',
      median(cli.bin, ['timeline', cli.subject, '--audit-file', cli.auditFile], cli.dir),
    ],
    ['npx fleetwarden --help', median('npx', ['--offline', 'fleetwarden', '--help'], cli.dir, 3)],
  ];
  console.log(`node -e 0: ${floor.toFixed(0)} ms (median of 7)`);
  for (const [name, ms] of rows) {
    const verdict = ms < 1000 ? 'under 1 s' : 'OVER 1 s';
    console.log(`${name}: ${ms.toFixed(0)} ms, ${(ms / floor).toFixed(1)}x node -e 0 (${verdict})`);
  }
}
