import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstalledCli, installCli } from './cli-startup.bench';

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
    for (const name of ['mcp', 'posture', 'timeline']) expect(r.stdout).toContain(`${name} [options]`);
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
});
