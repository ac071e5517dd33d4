import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import config, { SIM_FILES } from '../../vitest.config';
import { resetBetweenFiles } from '../../vitest.shared-state';

const ROOTS = ['infra', 'functions', 'shared', 'cli', 'integ', 'bench'];

function testFiles(): string[] {
  return ROOTS.flatMap((root) =>
    readdirSync(root, { recursive: true, encoding: 'utf8' })
      .map((f) => join(root, f))
      .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules') && !f.includes('cdk.out')),
  ).sort();
}

type ProjectTest = {
  name?: string;
  isolate?: boolean;
  setupFiles?: string[];
  testTimeout?: number;
  env?: Record<string, string>;
};
const project = (name: string) =>
  (
    config.test?.projects?.find(
      (p) => typeof p === 'object' && 'test' in p && (p.test as ProjectTest | undefined)?.name === name,
    ) as { test: ProjectTest } | undefined
  )?.test;

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

  it('no sim test file sets a wall-clock limit of its own (seen: a 180 s beforeAll failing at load 18)', () => {
    // a number after a test's or hook's callback, or a `timeout:` option, overrides testTimeout: 0
    const OWN_LIMIT = /\}\s*,\s*\d[\d_]*\s*\)|\btimeout\s*:|setConfig\(/;
    const limited = testFiles()
      .filter(inSim)
      .filter((f) => OWN_LIMIT.test(readFileSync(f, 'utf8')));
    expect(limited).toEqual([]);
  });

  it('each SIM_FILES pattern names at least one test file (a misspelt one would move nothing)', () => {
    const files = testFiles();
    for (const g of SIM_FILES)
      expect(
        files.some((f) => matchesGlob(f, g)),
        g,
      ).toBe(true);
  });

  it('the unit stage shares one module cache per worker and resets what a file can leave behind', async () => {
    const unit = project('unit');
    expect(unit?.isolate).toBe(false);
    expect(unit?.setupFiles).toContain('./vitest.shared-state.ts');
    // a class-level SDK stub (mockClient(Class)) would answer for every client of that class in
    // every later file of the worker; env stubs and spies would leak the same way
    const original = EC2Client.prototype.send;
    mockClient(EC2Client);
    vi.stubEnv('FLEETWARDEN_STAGE_PROBE', 'leaked');
    expect(EC2Client.prototype.send).not.toBe(original);
    resetBetweenFiles();
    expect(EC2Client.prototype.send).toBe(original);
    expect(process.env.FLEETWARDEN_STAGE_PROBE).toBeUndefined();
  });

  it('the sim stage synthesizes without the built-in validation and imports the project once per worker', () => {
    const sim = project('sim');
    // every simulation synthesizes the fleet in-process (cli/simulate/routing.ts); the built-in
    // CloudFormation validation's findings are warnings there too (17 -> 2 CPU-s for the first synth)
    expect(sim?.env?.CDK_VALIDATION).toBe('false');
    expect(sim?.isolate).toBe(false);
    expect(sim?.setupFiles).toContain('./vitest.shared-state.ts');
    // npm run synth and npm run integ keep it: nothing turns it off outside the vitest projects
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
    expect(Object.values(scripts).filter((s) => s.includes('CDK_VALIDATION'))).toEqual([]);
  });

  it('the Node 22 stage runs the unit tests of every folder bundled into a function, and the bundle check', async () => {
    const script = JSON.parse(readFileSync('package.json', 'utf8')).scripts['test:node22'] as string;
    const [unitRun = '', bundleRun = ''] = script.split('&&').map((c) => c.trim());
    expect(unitRun).toMatch(/^bash \.ci\/node22 npx vitest run --project unit /);
    expect(bundleRun).toMatch(/^bash \.ci\/node22 npx vitest run bench\/bundles\.test\.ts -t "as deployed"$/);
    const folders = unitRun.split(' ').slice(7);
    // every source file esbuild puts into a function's bundle (dependencies left out)
    const entries = readdirSync('functions', { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `functions/${d.name}/index.ts`);
    const { metafile } = await build({
      entryPoints: entries,
      bundle: true,
      write: false,
      outdir: 'out',
      format: 'esm',
      platform: 'node',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const bundled = [...new Set(Object.keys(metafile.inputs).map((f) => `${f.split('/')[0]}/`))].sort();
    expect(bundled.length).toBeGreaterThan(0);
    expect(folders.sort()).toEqual(bundled);
  });

  it('.ci/together runs its lanes at the same time, prints each lane, and fails if any lane fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-together-'));
    // each lane waits for the other's file: run one after the other, the first would never finish
    // (bounded at 600 s, so a broken script fails instead of hanging)
    const lane = (mine: string, theirs: string, tail: string) =>
      `touch ${dir}/${mine}; for i in $(seq 6000); do [ -e ${dir}/${theirs} ] && break; sleep 0.1; done; [ -e ${dir}/${theirs} ] && echo lane-${mine} ${tail}`;
    const ok = spawnSync('bash', ['.ci/together', lane('a', 'b', 'done'), lane('b', 'a', 'done')], {
      encoding: 'utf8',
    });
    expect(ok.stdout).toContain('lane-a done');
    expect(ok.stdout).toContain('lane-b done');
    expect(ok.status).toBe(0);
    const failed = spawnSync('bash', ['.ci/together', 'echo first-ran', 'echo second-ran; exit 3'], {
      encoding: 'utf8',
    });
    expect(failed.stdout).toContain('first-ran');
    expect(failed.stdout).toContain('second-ran');
    expect(failed.stdout).toMatch(/FAILED \(exit 3/);
    expect(failed.status).not.toBe(0);
  });

  it(".ci/together reports each lane's own wall time, not the time until it was collected", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-together-time-'));
    // lane 2 ends at once; lane 1 waits for it, then 2 s more
    const res = spawnSync(
      'bash',
      [
        '.ci/together',
        `for i in $(seq 6000); do [ -e ${dir}/b ] && break; sleep 0.1; done; sleep 2`,
        `touch ${dir}/b`,
      ],
      { encoding: 'utf8' },
    );
    const secs = [...res.stdout.matchAll(/ok \((\d+) s wall\)/g)].map((m) => Number(m[1]));
    expect(secs).toHaveLength(2);
    expect(secs[1]).toBeLessThan(secs[0] ?? 0);
  });

  it('npm test runs every stage', () => {
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
    const stages = [...(scripts.test ?? '').matchAll(/npm run ([\w:]+)/g)].map((m) => m[1]).sort();
    expect(stages).toEqual(
      ['integ', 'lint', 'synth', 'test:node22', 'test:package', 'test:sim', 'test:unit', 'typecheck'].sort(),
    );
  });
});
