import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from './errors';
import { runCli } from './program';
import { testDeps } from './test-deps';
import { packageVersion } from './version';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('fleetwarden --version', () => {
  it("reads the package's own version", () => {
    expect(packageVersion()).toBe(version);
  });

  it('prints it and exits 0', async () => {
    const t = testDeps();
    expect(await runCli(['node', 'fleetwarden', '--version'], t.deps, [])).toBe(EXIT.ok);
    expect(t.stdout().trim()).toBe(version);
  });
});
