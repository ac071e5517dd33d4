import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import SummaryLine from '../../vitest.summary-reporter';

type State = 'passed' | 'failed' | 'skipped';
const fakeModule = (id: string, tests: State[], moduleState: State) =>
  ({
    project: { name: 'sim' },
    relativeModuleId: id,
    state: () => moduleState,
    children: { allTests: () => tests.map((s) => ({ result: () => ({ state: s }) })) },
  }) as unknown as TestModule;

describe('the closing summary line of a stage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts a file that failed outside its tests (a beforeAll that timed out) as failed', () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    new SummaryLine().onTestRunEnd([
      fakeModule('cli/a.test.ts', ['passed', 'passed'], 'passed'),
      // the hook failed: its tests never ran (skipped), the file failed
      fakeModule('bench/multi-account.test.ts', ['skipped', 'skipped'], 'failed'),
    ]);
    expect(out.join('')).toContain('sim: 2 passed, 1 failed, 2 skipped\n');
    expect(out.join('')).toContain('failed outside a test: bench/multi-account.test.ts');
  });

  it('counts failed tests once, not again for their file', () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    new SummaryLine().onTestRunEnd([fakeModule('cli/a.test.ts', ['passed', 'failed'], 'failed')]);
    expect(out.join('')).toBe('\nsim: 1 passed, 1 failed, 0 skipped\n');
  });
});
