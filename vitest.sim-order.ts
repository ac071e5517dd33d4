import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The sim stage's longest files, longest first (measured one stage run at a time; README "Test
 * stages"). Two workers take files from one queue, so a long file started last finishes alone on
 * one core. vitest sorts by the durations of earlier runs, which a clean clone (CI) does not have:
 * it then starts the largest files first, and the chaos day, a small file and the longest run,
 * started eleventh of twenty. Since then the multi-account bench (100,000 instances: 35-49 s in
 * the stage) runs longest, and the browser test waits on Chromium. Files not listed follow in
 * vitest's own order.
 */
export const SIM_HEAVIEST_FIRST = [
  'bench/multi-account.test.ts',
  'bench/chaos-day.test.ts',
  'bench/bundles.test.ts',
  'cli/timeline/html/browser.test.ts',
  'cli/commands/simulate.test.ts',
  'bench/dns-burst.test.ts',
  'functions/orphaned-volumes/simulation.test.ts',
  'bench/cost.test.ts',
];

export class SimHeaviestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = SIM_HEAVIEST_FIRST.indexOf(relative(this.ctx.config.root, spec.moduleId));
      return i === -1 ? SIM_HEAVIEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: unlisted files keep vitest's order
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
