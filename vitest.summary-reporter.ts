import type { Reporter, TestModule } from 'vitest/node';

/**
 * One plain closing line after vitest's own summary, `unit: N passed, N failed, N skipped` (named
 * after the stage, the vitest project, that ran: `unit` or `sim`), the form CI reads to tell a run
 * that tested something from one that ran no test.
 */
export default class SummaryLine implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const stages = new Set(testModules.map((m) => m.project.name || 'tests'));
    const stage = stages.size === 1 ? [...stages][0] : 'tests';
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
    }
    process.stdout.write(
      `\n${stage}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
