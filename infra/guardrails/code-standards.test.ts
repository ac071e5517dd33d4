import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CYCLE_ALLOWANCES,
  describeFunction,
  describeImport,
  errorClassesWithoutName,
  type ImportViolation,
  importViolations,
  isTestCode,
  JMESPATH_OPTIONS,
  jmesPathOptionUses,
  judgeFunctionLengths,
  judgeImports,
  LONG_FUNCTION_ALLOWANCES,
  MAX_FUNCTION_LINES,
  measureFunctions,
  measureRepository,
  nonTestSources,
} from './code-standards';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const lines = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('measureFunctions', () => {
  it('names and measures functions, methods, constructors and arrows from first token to closing brace', () => {
    const text = [
      '/** doc comments do not count */',
      'export function top() {',
      lines(3),
      '}',
      'class Box {',
      '  constructor() {',
      lines(2),
      '  }',
      '  get size() { return 1; }',
      '  open(): void {}',
      '}',
      'export const arrow = (a: number) => {',
      '  return () => a;',
      '};',
      'describe(() => {});',
    ].join('\n');
    const sizes = measureFunctions('x.ts', text).map(({ name, line, lines }) => ({ name, line, lines }));
    expect(sizes).toEqual([
      { name: 'top', line: 2, lines: 5 },
      { name: 'Box.constructor', line: 8, lines: 4 },
      { name: 'Box.size', line: 12, lines: 1 },
      { name: 'Box.open', line: 13, lines: 1 },
      { name: 'arrow', line: 15, lines: 3 },
      { name: 'arrow/<arrow>', line: 16, lines: 1 },
      { name: 'describe(<callback>)', line: 18, lines: 1 },
    ]);
  });
});

describe('judgeFunctionLengths', () => {
  const size = (name: string, n: number) => ({ file: 'a.ts', name, line: 1, lines: n });
  const allowance = (name: string) => ({ file: 'a.ts', name, reason: 'being replaced' });

  it('fails a function over the limit unless it is allowed', () => {
    const verdict = judgeFunctionLengths(
      [size('long', 81), size('ok', 80), size('allowed', 200)],
      [allowance('allowed')],
    );
    expect(verdict.tooLong.map((s) => s.name)).toEqual(['long']);
    expect(verdict.staleAllowances).toEqual([]);
  });

  it('reports an allowance whose function is now within the limit or gone, so the list shrinks', () => {
    const verdict = judgeFunctionLengths([size('shrunk', 80)], [allowance('shrunk'), allowance('deleted')]);
    expect(verdict.staleAllowances.map((a) => a.name)).toEqual(['shrunk', 'deleted']);
  });
});

describe('isTestCode', () => {
  it('treats tests, contract suites, test helpers and testing/ folders as test code', () => {
    const testCode = [
      'shared/dns/planner.test.ts',
      'shared/dns/route53.contract.ts',
      'infra/guardrails/rules/rules.test-helpers.ts',
      'shared/dns/testing/scripted-route53.ts',
      'infra/constructs/test-fixtures/noop-handler.ts',
      'cli/test-deps.ts',
    ];
    const production = ['shared/dns/planner.ts', 'shared/dns/in-memory-route53.ts', 'bench/run.ts'];
    expect([...testCode, ...production].filter(isTestCode)).toEqual(testCode);
  });
});

describe('jmesPathOptionUses', () => {
  it('finds the JMESPath idempotency options in code, not in comments or strings', () => {
    const text = [
      "const a = new IdempotencyConfig({ eventKeyJmesPath: 'key' });",
      "const b = { 'payloadValidationJmesPath': 'body', jmesPathOptions };",
      'config.eventKeyJmesPath = x;',
      '// eventKeyJmesPath in a comment',
      "const s = 'eventKeyJmesPath in a string';",
    ].join('\n');
    expect(jmesPathOptionUses('shared/x.ts', text)).toEqual([
      'shared/x.ts:1 eventKeyJmesPath',
      'shared/x.ts:2 payloadValidationJmesPath',
      'shared/x.ts:2 jmesPathOptions',
      'shared/x.ts:3 eventKeyJmesPath',
    ]);
    expect(JMESPATH_OPTIONS).toEqual(['eventKeyJmesPath', 'payloadValidationJmesPath', 'jmesPathOptions']);
  });
});

describe('errorClassesWithoutName', () => {
  const file = (path: string, ...text: string[]) => ({ file: path, text: text.join('\n') });

  it('asks every error class, however deep, for its own name as a string literal', () => {
    const base = file(
      'shared/core/errors.ts',
      'export abstract class FleetwardenError extends Error {',
      '  abstract override readonly name: string;',
      '}',
      "export class ConfigError extends FleetwardenError { override readonly name: string = 'ConfigError'; }",
      'export class Unnamed extends FleetwardenError {}',
    );
    const other = file(
      'shared/x/errors.ts',
      "import { ConfigError } from '../core/errors';",
      "class CopiedError extends ConfigError { override readonly name: string = 'ConfigError'; }",
      'class NotLiteralError extends core.ConfigError { override name = NAMES.notLiteral; }',
      "class StaticError extends Unnamed { static readonly name = 'StaticError'; }",
      "class SubError extends CopiedError { override readonly name = 'SubError'; }",
      "class OwnError extends SomeLibraryError { readonly name = 'OwnError'; }",
      'class Plain { name = 1; }',
      'class Model extends Plain {}',
    );
    expect(errorClassesWithoutName([base, other])).toEqual([
      "shared/core/errors.ts:5 Unnamed: declares no name (override readonly name: string = 'Unnamed')",
      "shared/x/errors.ts:2 CopiedError: name 'ConfigError' is not its class name",
      "shared/x/errors.ts:3 NotLiteralError: name is not a string literal (override readonly name: string = 'NotLiteralError')",
      "shared/x/errors.ts:4 StaticError: declares no name (override readonly name: string = 'StaticError')",
    ]);
  });
});

describe('judgeImports', () => {
  const cycle = (...modules: string[]): ImportViolation => ({
    rule: 'no-cycle',
    from: modules[0] ?? '',
    to: modules[1] ?? '',
    cycle: [...modules, modules[0] ?? ''],
  });

  it('separates cycles from layering breaches and honours allowed cycles in either direction', () => {
    const layering = { rule: 'shared-not-on-functions', from: 'shared/x.ts', to: 'functions/y/handler.ts' };
    const verdict = judgeImports(
      [cycle('a.ts', 'b.ts'), cycle('b.ts', 'a.ts'), cycle('c.ts', 'd.ts'), layering],
      [
        { modules: ['b.ts', 'a.ts'], reason: 'r' },
        { modules: ['e.ts', 'f.ts'], reason: 'gone' },
      ],
    );
    expect(verdict.cycles.map(describeImport)).toEqual(['no-cycle: c.ts -> d.ts -> c.ts']);
    expect(verdict.layering).toEqual([layering]);
    expect(verdict.staleCycleAllowances.map((a) => a.reason)).toEqual(['gone']);
  });
});

describe('code standards of this repository (AGENTS.md, "Code standards the tests enforce")', () => {
  const verdict = judgeFunctionLengths(
    measureRepository(ROOT, nonTestSources(ROOT)),
    LONG_FUNCTION_ALLOWANCES,
  );

  it(`has no non-test function over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(verdict.tooLong.map(describeFunction)).toEqual([]);
  });

  it('allows a long function only while it is still long (remove the entry once it is split)', () => {
    expect(verdict.staleAllowances.map((a) => `${a.file} ${a.name}`)).toEqual([]);
  });

  // JMESPath is not in the function bundles (FleetFunction FUNCTION_ALIAS): Powertools would throw
  // JmesPathNotBundledError at the first delivery; pass the key as the data (dataIndexArgument)
  it('sets no JMESPath idempotency option in functions/ and shared/', () => {
    const lambdaCode = nonTestSources(ROOT).filter((f) => /^(functions|shared)\//.test(f));
    expect(lambdaCode.length).toBeGreaterThan(0);
    const uses = lambdaCode.flatMap((f) => jmesPathOptionUses(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(uses).toEqual([]);
  });

  // functions and the packaged CLI are minified: a class's own name is gone, `name` is what a log,
  // an audit record (`${name}: ${message}`) or the CLI's error handling reads
  it('names every error class in functions/, shared/ and cli/ explicitly, after itself', () => {
    const minified = nonTestSources(ROOT).filter((f) => /^(functions|shared|cli)\//.test(f));
    const unnamed = errorClassesWithoutName(
      minified.map((f) => ({ file: f, text: readFileSync(join(ROOT, f), 'utf8') })),
    );
    expect(unnamed).toEqual([]);
  });

  describe('imports (dependency-cruiser)', () => {
    let imports: ReturnType<typeof judgeImports>;
    beforeAll(async () => {
      imports = judgeImports(await importViolations(ROOT), CYCLE_ALLOWANCES);
    });

    it('has no import cycle among non-test modules', () => {
      expect(imports.cycles.map(describeImport)).toEqual([]);
    });

    it('keeps functions/ and shared/ off infra/ and cli/, and shared/ off functions/', () => {
      expect(imports.layering.map(describeImport)).toEqual([]);
    });

    it('allows a cycle only while it still exists', () => {
      expect(imports.staleCycleAllowances.map((a) => a.modules.join(' <-> '))).toEqual([]);
    });
  });
});

describe('dependencies', () => {
  // Powertools releases its utilities in lockstep and each pins its own @aws-lambda-powertools/commons:
  // two versions in the tree put two copies of commons into a function's bundle (3-4 KB each)
  it('declares every Powertools utility with one version range, and one commons is installed', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const powertools = Object.entries(pkg.dependencies).filter(([n]) =>
      n.startsWith('@aws-lambda-powertools/'),
    );
    expect(powertools.length).toBeGreaterThan(0);
    const versions = new Set(powertools.map(([, v]) => v));
    expect([...versions], 'one version for all').toHaveLength(1);
    // patch releases only (~): a minor moves every utility at once, in one change
    expect([...versions][0], 'a ~ range').toMatch(/^~\d+\.\d+\.\d+$/);
    const lock = JSON.parse(readFileSync(`${ROOT}/package-lock.json`, 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const commons = Object.entries(lock.packages).filter(([p]) =>
      p.endsWith('node_modules/@aws-lambda-powertools/commons'),
    );
    expect(commons.map(([p]) => p)).toEqual(['node_modules/@aws-lambda-powertools/commons']);
  });
});
