import { matchesGlob } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import config, { SIM_FILES } from '../../vitest.config';
import { SIM_HEAVIEST_FIRST, SimHeaviestFirst } from '../../vitest.sim-order';

const ROOT = '/repo';
const spec = (file: string, size = 0) =>
  ({
    moduleId: `${ROOT}/${file}`,
    project: { name: 'sim', config: { sequence: { groupOrder: 0 }, isolate: false } },
    size,
  }) as unknown as TestSpecification;

describe('sim stage order: heaviest files first', () => {
  it("is the run's sequencer (vitest reads sequence.sequencer from the root config only)", () => {
    expect(config.test?.sequence?.sequencer).toBe(SimHeaviestFirst);
  });

  it('starts the listed whole-simulation files first, in the listed order, then the rest', async () => {
    // on a clean clone vitest has no recorded durations and would start the largest files first,
    // leaving a small file with a long run (the multi-account bench, the chaos day) to finish
    // alone on one core
    const ctx = {
      config: { root: ROOT },
      cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
    };
    const sequencer = new SimHeaviestFirst(ctx as unknown as Vitest);
    const files = ['cli/simulate/invariants.test.ts', ...[...SIM_HEAVIEST_FIRST].reverse()].map((f) =>
      spec(f),
    );
    const sorted = (await sequencer.sort(files)).map((s) => s.moduleId.slice(ROOT.length + 1));
    expect(sorted).toEqual([...SIM_HEAVIEST_FIRST, 'cli/simulate/invariants.test.ts']);
    expect(sorted[0]).toBe('bench/multi-account.test.ts');
  });

  it('names only files of the sim stage', () => {
    for (const f of SIM_HEAVIEST_FIRST)
      expect(
        SIM_FILES.some((g) => matchesGlob(f, g)),
        f,
      ).toBe(true);
  });
});
