import { readdirSync, readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { SIM_FILES } from '../../vitest.config';

const ROOTS = ['infra', 'functions', 'shared', 'cli', 'integ', 'bench'];

function testFiles(): string[] {
  return ROOTS.flatMap((root) =>
    readdirSync(root, { recursive: true, encoding: 'utf8' })
      .map((f) => join(root, f))
      .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules') && !f.includes('cdk.out')),
  ).sort();
}

const inSim = (file: string) => SIM_FILES.some((g) => matchesGlob(file, g));

/** A whole simulator run: `simulate(`/`simulateCommandWith(`, the chaos day, or `npm start` in a child. */
const RUNS_A_SIMULATION = /\b(simulate|simulateCommandWith|chaosDay)\(|spawnSync\(/;

describe('test stages (vitest projects unit and sim)', () => {
  it('every test file that runs a whole simulation is in the sim stage, with no per-test time limit', () => {
    const running = testFiles()
      .filter((f) => f !== 'infra/guardrails/test-stages.test.ts')
      .filter((f) => RUNS_A_SIMULATION.test(readFileSync(f, 'utf8')));
    expect(running.length).toBeGreaterThan(0);
    expect(running.filter((f) => !inSim(f))).toEqual([]);
    const sim = config.test?.projects?.find(
      (p) => typeof p === 'object' && 'test' in p && p.test?.name === 'sim',
    ) as { test: { testTimeout?: number } } | undefined;
    expect(sim?.test.testTimeout).toBe(0);
  });

  it('each SIM_FILES pattern names at least one test file (a misspelt one would move nothing)', () => {
    const files = testFiles();
    for (const g of SIM_FILES)
      expect(
        files.some((f) => matchesGlob(f, g)),
        g,
      ).toBe(true);
  });
});
