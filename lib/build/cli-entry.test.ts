import { describe, expect, it } from 'vitest';
import { cliEntrySource, DEV_ONLY_COMMANDS } from './cli-entry';

describe('cliEntrySource (the bundled CLI lists cli/commands/ at build time instead of reading it)', () => {
  const source = cliEntrySource(['mcp.ts', 'mcp.test.ts', 'options.ts', 'simulate.ts', 'timeline.ts']);

  it('imports every command file but tests and the dev-only ones', () => {
    expect(source).toContain("from './commands/mcp.ts'");
    expect(source).toContain("from './commands/timeline.ts'");
    expect(source).not.toContain('mcp.test');
    for (const name of DEV_ONLY_COMMANDS) expect(source).not.toContain(`./commands/${name}.ts`);
  });

  it('runs the program with those commands', () => {
    expect(source).toMatch(/process\.exitCode = await runCli\(process\.argv, defaultDeps\(\), commands\)/);
  });
});
