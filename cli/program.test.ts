import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXIT } from './errors';
import { loadCommands, runCli } from './program';
import { testDeps } from './test-deps';

describe('fleetwarden program', () => {
  it('registers every command exported from cli/commands/*.ts', async () => {
    const names = (await loadCommands()).map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['approve', 'mcp', 'posture', 'proposals', 'reject', 'show', 'timeline']),
    );
  });

  it('exits 2 with a one-line message on an unknown command or missing argument', async () => {
    const t = testDeps();
    const commands = await loadCommands();
    expect(await runCli(['node', 'fleetwarden', 'frobnicate'], t.deps, commands)).toBe(EXIT.usage);
    expect(t.stderr()).toContain("error: unknown command 'frobnicate'");
    expect(await runCli(['node', 'fleetwarden', 'timeline'], t.deps, commands)).toBe(EXIT.usage);
    expect(t.stderr()).toContain("error: missing required argument 'subject'");
  });

  it('runs from bin/fleetwarden.mjs through tsx', async () => {
    const bin = fileURLToPath(new URL('../bin/fleetwarden.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help'], { timeout: 300_000 });
    expect(stdout).toContain('timeline [options] <subject>');
    expect(stdout).toContain('posture [options]');
    expect(stdout).toContain('approve [options] <id>');
    expect(stdout).toContain('proposals [options]');
  });
});
