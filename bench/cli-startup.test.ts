import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_WORK,
  type InstalledCli,
  installCli,
  isHeavyPackage,
  loadedBy,
  packagesIn,
  run,
  type StartupReport,
} from './cli-startup.bench';

describe('cli-startup bench: the CLI laid out as npm installs it (bundle, package.json, .bin link)', () => {
  let cli: InstalledCli;
  beforeAll(async () => {
    cli = await installCli();
  });
  afterAll(() => rmSync(cli.dir, { recursive: true, force: true }));

  const fleetwarden = (...args: string[]) => spawnSync(cli.bin, args, { cwd: cli.dir, encoding: 'utf8' });

  it('prints --help with every installed command and exits 0', () => {
    const r = fleetwarden('--help');
    expect(r.status).toBe(0);
    for (const name of ['doctor', 'mcp', 'posture', 'proposals', 'show', 'approve', 'reject'])
      expect(r.stdout).toContain(`${name} [options]`);
    expect(r.stdout).toContain('timeline [options] <subject>');
  });

  it('prints the package version', () => {
    expect(fleetwarden('--version').stdout.trim()).toBe(cli.version);
  });

  it("keeps today's exit codes: usage 2, unknown subject 3, ok 0 for a timeline from an audit file", () => {
    expect(fleetwarden('frobnicate').status).toBe(2);
    expect(fleetwarden('timeline', 'i-0nothere000000', '--audit-file', cli.auditFile).status).toBe(3);
    const r = fleetwarden('timeline', cli.subject, '--audit-file', cli.auditFile);
    expect(r.stderr).toBe(`cloudtrail: not consulted (--audit-file ${cli.auditFile})\n`);
    expect(r.status).toBe(0);
  });

  it('--help and --version load no command work: no run module, AWS SDK, zod or MCP SDK', () => {
    for (const args of [['--help'], ['--version']]) {
      const files = loadedBy(cli, args);
      expect(files[0]).toBe('dist/cli.mjs');
      expect(cli.sourcesOf(files).filter((s) => COMMAND_WORK.some((w) => s.startsWith(w)))).toEqual([]);
      expect(packagesIn(cli, files).filter(isHeavyPackage)).toEqual([]);
    }
  });

  it('timeline --audit-file loads no AWS SDK, MCP SDK or command other than the timeline', () => {
    const files = loadedBy(cli, ['timeline', cli.subject, '--audit-file', cli.auditFile]);
    expect(files.length).toBeGreaterThan(1);
    const packages = packagesIn(cli, files);
    expect(packages.filter((p) => p.startsWith('@aws-sdk/') || p === '@modelcontextprotocol/sdk')).toEqual(
      [],
    );
    const work = cli.sourcesOf(files).filter((s) => COMMAND_WORK.some((w) => s.startsWith(w)));
    expect(work).toContain('cli/timeline/run.ts');
    expect(work.filter((s) => !s.startsWith('cli/timeline/'))).toEqual([]);
    expect(work).not.toContain('cli/timeline/aws-sources.ts');
  });

  it('reports every row in ms and as a ratio of node -e 0, with the target as a ratio', async () => {
    const report: StartupReport = await run({ runs: 1, npxRuns: 1, print: () => {}, cli });
    expect(report.rows.map((r) => r.name)).toEqual([
      'node -e 0',
      'fleetwarden --help',
      'fleetwarden --version',
      'fleetwarden timeline --audit-file',
      'npx --call "node -e 0" (npx floor)',
      'npx fleetwarden --help',
    ]);
    for (const row of report.rows) {
      expect(row.ms).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.ms / report.floorMs, 6);
    }
    expect(report.targetRatio).toBeCloseTo(1000 / report.floorMs, 6);
    expect(report.lines.join('\n')).toContain(
      `target: < 1 s, i.e. ratio <= ${report.targetRatio.toFixed(1)}`,
    );
  });
});
