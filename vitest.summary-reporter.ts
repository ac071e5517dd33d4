import type { Reporter, TestModule } from 'vitest/node';

/**
 * One plain closing line after vitest's own summary, `unit: N passed, N failed, N skipped` (named
 * after the stage, the vitest project, that ran: `unit` or `sim`), the form CI reads to tell a run
 * that tested something from one that ran no test. A file that failed outside its tests (an import
 * error, a hook that threw or timed out: its tests show as skipped) counts as one failure and is named
 * on a second line, so the line never says `0 failed` for a stage that failed.
 */
export default class SummaryLine implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const stages = new Set(testModules.map((m) => m.project.name || 'tests'));
    const stage = stages.size === 1 ? [...stages][0] : 'tests';
    const outside: string[] = [];
    for (const m of testModules) {
      let failedTests = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedTests++;
        else counts.skipped++;
      }
      counts.failed += failedTests;
      if (failedTests === 0 && m.state() === 'failed') outside.push(m.relativeModuleId);
    }
    counts.failed += outside.length;
    process.stdout.write(
      `\n${stage}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
    if (outside.length > 0) process.stdout.write(`failed outside a test: ${outside.join(', ')}\n`);
  }
}
