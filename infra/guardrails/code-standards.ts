import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import ts from 'typescript';

/**
 * The code standards of AGENTS.md ("Code standards the tests enforce") as pure functions over the
 * tracked sources; `code-standards.test.ts` runs them on the repository.
 */

/** The longest a non-test function, method, constructor or arrow function may be, in lines. */
export const MAX_FUNCTION_LINES = 80;

/**
 * Test code and test support: tests, contract suites (they run against fakes and adapters from tests),
 * test helpers and fixtures, and the `testing/` folders that hold the scripted SDK stand-ins.
 */
const TEST_CODE: readonly RegExp[] = [
  /\.test\.ts$/,
  /\.contract\.ts$/,
  /\.test-helpers\.ts$/,
  /(^|\/)testing\//,
  /(^|\/)test-fixtures\//,
  /(^|\/)test-deps\.ts$/,
];

export function isTestCode(path: string): boolean {
  return TEST_CODE.some((pattern) => pattern.test(path));
}

/** Every tracked TypeScript file that is not test code, relative to `root`. */
export function nonTestSources(root: string): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], { cwd: root, encoding: 'utf8' });
  return tracked
    .split('\0')
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts') && !isTestCode(path))
    .sort();
}

export interface FunctionSize {
  readonly file: string;
  /** `Class.method`, `Class.constructor`, `name` of a function or of the variable holding an arrow. */
  readonly name: string;
  /** 1-based line of the function's first token (after its doc comment). */
  readonly line: number;
  /** From the first token to the closing brace, both lines included. */
  readonly lines: number;
}

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction;

function isFunctionNode(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node)
  );
}

function propertyName(name: ts.PropertyName | ts.BindingName, source: ts.SourceFile): string {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) ? name.text : name.getText(source);
}

function enclosingClassName(node: ts.Node): string | undefined {
  const parent = node.parent;
  if (ts.isClassDeclaration(parent) || ts.isClassExpression(parent)) return parent.name?.text ?? '<class>';
  return undefined;
}

/** A readable, stable name: what a reader would search for, never a line number. */
function functionName(node: FunctionNode, source: ts.SourceFile): string {
  const owner = enclosingClassName(node);
  const qualify = (name: string) => (owner ? `${owner}.${name}` : name);
  if (ts.isConstructorDeclaration(node)) return qualify('constructor');
  if (node.name) return qualify(propertyName(node.name, source));
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent)
  ) {
    return qualify(propertyName(parent.name, source));
  }
  if (ts.isCallExpression(parent)) return `${parent.expression.getText(source)}(<callback>)`;
  return `${enclosingFunctionName(node, source)}/<${ts.isArrowFunction(node) ? 'arrow' : 'function'}>`;
}

function enclosingFunctionName(node: ts.Node, source: ts.SourceFile): string {
  for (let outer = node.parent; outer; outer = outer.parent) {
    if (isFunctionNode(outer)) return functionName(outer, source);
  }
  return '<module>';
}

/** The size of every function-like node in one file, nested ones included (the outer counts them too). */
export function measureFunctions(file: string, text: string): FunctionSize[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const sizes: FunctionSize[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionNode(node) && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      sizes.push({ file, name: functionName(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sizes;
}

export function measureRepository(root: string, files: readonly string[]): FunctionSize[] {
  return files.flatMap((file) => measureFunctions(file, readFileSync(join(root, file), 'utf8')));
}

/** A function allowed over the limit for now, with the reason; the list may only shrink. */
export interface LongFunctionAllowance {
  readonly file: string;
  readonly name: string;
  readonly reason: string;
}

export interface FunctionLengthVerdict {
  /** Over the limit and not allowed: each one fails the check. */
  readonly tooLong: FunctionSize[];
  /** Allowed entries that are no longer over the limit (or no longer exist): remove them from the list. */
  readonly staleAllowances: LongFunctionAllowance[];
}

export function judgeFunctionLengths(
  sizes: readonly FunctionSize[],
  allowances: readonly LongFunctionAllowance[],
  limit = MAX_FUNCTION_LINES,
): FunctionLengthVerdict {
  const key = (f: { file: string; name: string }) => `${f.file}#${f.name}`;
  const over = sizes.filter((size) => size.lines > limit);
  const allowed = new Set(allowances.map(key));
  const overKeys = new Set(over.map(key));
  return {
    tooLong: over.filter((size) => !allowed.has(key(size))),
    staleAllowances: allowances.filter((allowance) => !overKeys.has(key(allowance))),
  };
}

export function describeFunction(size: FunctionSize): string {
  return `${size.file}:${size.line} ${size.name} (${size.lines} lines)`;
}

/**
 * Functions still over the limit because the kernel migration (issue 11) is replacing them right now;
 * when one drops under the limit the check fails until its entry is removed here.
 */
export const LONG_FUNCTION_ALLOWANCES: readonly LongFunctionAllowance[] = [];

/** A remediation's simulation module and the list of them (their tests too). */
const SIMULATION_MODULE = '^functions/([^/]+/simulation|simulations)(\\.test)?\\.ts$';

/** Import rules: paths are relative to the repository root, as dependency-cruiser reports them. */
const TEST_CODE_PATTERN = TEST_CODE.map((pattern) => pattern.source).join('|');

export const IMPORT_RULES: IForbiddenRuleType[] = [
  {
    name: 'no-cycle',
    comment: 'a cycle of runtime imports among non-test modules',
    severity: 'error',
    from: { pathNot: TEST_CODE_PATTERN },
    to: {
      circular: true,
      dependencyTypesNot: ['type-only'],
      viaOnly: { pathNot: TEST_CODE_PATTERN, dependencyTypesNot: ['type-only'] },
    },
  },
  {
    name: 'functions-and-shared-not-on-infra',
    comment: 'Lambda code, simulations and the domain never import the CDK app (tests included)',
    severity: 'error',
    from: { path: '^(functions|shared)/' },
    to: { path: '^infra/' },
  },
  {
    name: 'lambda-code-not-on-cli',
    comment:
      "Lambda code and the domain never import the CLI (tests included); a remediation's simulation module (functions/<name>/simulation.ts, functions/simulations.ts) is a simulator plug-in and may",
    severity: 'error',
    from: { path: '^(functions|shared)/', pathNot: SIMULATION_MODULE },
    to: { path: '^cli/' },
  },
  {
    name: 'lambda-code-not-on-simulations',
    comment: 'no Lambda code reaches a simulation module (it would be bundled into the function)',
    severity: 'error',
    from: { path: '^(functions|shared)/', pathNot: SIMULATION_MODULE },
    to: { path: SIMULATION_MODULE },
  },
  {
    name: 'shared-not-on-functions',
    comment: 'the domain never imports a handler (tests included)',
    severity: 'error',
    from: { path: '^shared/' },
    to: { path: '^functions/' },
  },
];

/** The folders the TypeScript project covers (tsconfig.json `include`). */
const SOURCE_ROOTS = ['infra', 'lib', 'functions', 'shared', 'cli', 'integ', 'bench', 'bin'];

export interface ImportViolation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
  /** For a cycle: every module on it, starting at `from`. */
  readonly cycle?: readonly string[];
}

/** Every breach of IMPORT_RULES in the repository, by dependency-cruiser. */
export async function importViolations(root: string): Promise<ImportViolation[]> {
  const result = await cruise(
    SOURCE_ROOTS.map((dir) => join(root, dir)),
    {
      baseDir: root,
      tsConfig: { fileName: join(root, 'tsconfig.json') },
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      exclude: { path: ['node_modules', 'cdk\\.out', '\\.snapshot/'] },
      validate: true,
      ruleSet: { forbidden: IMPORT_RULES },
    },
  );
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((violation) => ({
    rule: violation.rule.name,
    from: violation.from,
    to: violation.to,
    ...(violation.cycle ? { cycle: [violation.from, ...violation.cycle.map((step) => step.name)] } : {}),
  }));
}

/** A cycle left in place for now, with the reason; the list may only shrink. */
export interface CycleAllowance {
  readonly modules: readonly string[];
  readonly reason: string;
}

export const CYCLE_ALLOWANCES: readonly CycleAllowance[] = [];

const cycleKey = (modules: readonly string[]) => [...new Set(modules)].sort().join(' ');

export interface ImportVerdict {
  readonly cycles: ImportViolation[];
  readonly layering: ImportViolation[];
  /** Allowed cycles that no longer exist: remove them from the list. */
  readonly staleCycleAllowances: CycleAllowance[];
}

export function judgeImports(
  violations: readonly ImportViolation[],
  allowances: readonly CycleAllowance[],
): ImportVerdict {
  const allowed = new Set(allowances.map((allowance) => cycleKey(allowance.modules)));
  const cycles = violations.filter((violation) => violation.cycle);
  const seen = new Set(cycles.map((violation) => cycleKey(violation.cycle ?? [])));
  return {
    cycles: cycles.filter((violation) => !allowed.has(cycleKey(violation.cycle ?? []))),
    layering: violations.filter((violation) => !violation.cycle),
    staleCycleAllowances: allowances.filter((allowance) => !seen.has(cycleKey(allowance.modules))),
  };
}

export function describeImport(violation: ImportViolation): string {
  return violation.cycle
    ? `${violation.rule}: ${violation.cycle.join(' -> ')}`
    : `${violation.rule}: ${violation.from} -> ${violation.to}`;
}

/**
 * Powertools idempotency options that evaluate JMESPath, which is not in the function bundles
 * (FleetFunction FUNCTION_ALIAS): Lambda code passes the key as the data (`dataIndexArgument`).
 */
export const JMESPATH_OPTIONS = ['eventKeyJmesPath', 'payloadValidationJmesPath', 'jmesPathOptions'];

/** `file:line name` of every use of a JMESPATH_OPTIONS name in code (comments and strings aside). */
export function jmesPathOptionUses(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const uses: string[] = [];
  const named = (node: ts.Node): string | undefined => {
    if (ts.isIdentifier(node)) return node.text;
    const parent = node.parent;
    const isKey =
      ts.isStringLiteral(node) &&
      ((ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isElementAccessExpression(parent) && parent.argumentExpression === node));
    return isKey ? node.text : undefined;
  };
  const visit = (node: ts.Node): void => {
    const name = named(node);
    if (name !== undefined && JMESPATH_OPTIONS.includes(name)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      uses.push(`${file}:${line} ${name}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

interface ClassFacts {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  /** The last identifier of the `extends` expression (`ConfigError` of `errors.ConfigError`). */
  readonly base: string | undefined;
  readonly abstract: boolean;
  /** The instance `name` property's initializer, if the class declares one. */
  readonly nameInitializer: ts.Expression | undefined;
  readonly declaresName: boolean;
}

function classFacts(file: string, text: string): ClassFacts[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const facts: ClassFacts[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name) {
      const heritage = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
      const base = heritage?.types[0]?.expression;
      const own = node.members.find(
        (m): m is ts.PropertyDeclaration =>
          ts.isPropertyDeclaration(m) &&
          propertyName(m.name, source) === 'name' &&
          !m.modifiers?.some((mod) => mod.kind === ts.SyntaxKind.StaticKeyword),
      );
      facts.push({
        file,
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
        name: node.name.text,
        base: base && (ts.isPropertyAccessExpression(base) ? base.name.text : base.getText(source)),
        abstract: !!node.modifiers?.some((mod) => mod.kind === ts.SyntaxKind.AbstractKeyword),
        nameInitializer: own?.initializer,
        declaresName: own !== undefined,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return facts;
}

/**
 * `file:line Class: problem` of every concrete class extending an Error class (`Error`, a class
 * named `…Error`, or, across the files given, a class that does) that does not declare its `name`
 * as a string literal equal to its class name. Minification renames classes: in a function bundle
 * or the packaged CLI, `new.target.name` of a PublishError reads `oe` (AGENTS.md "Errors").
 */
export function errorClassesWithoutName(files: readonly { file: string; text: string }[]): string[] {
  const classes = files.flatMap(({ file, text }) => classFacts(file, text));
  const errorClasses = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of classes) {
      const isError = c.base !== undefined && (c.base.endsWith('Error') || errorClasses.has(c.base));
      if (isError && !errorClasses.has(c.name)) {
        errorClasses.add(c.name);
        grew = true;
      }
    }
  }
  const wanted = (c: ClassFacts) => `(override readonly name: string = '${c.name}')`;
  return classes.flatMap((c) => {
    if (!errorClasses.has(c.name) || c.abstract) return [];
    const init = c.nameInitializer;
    const problem = !c.declaresName
      ? `declares no name ${wanted(c)}`
      : !init || !ts.isStringLiteralLike(init)
        ? `name is not a string literal ${wanted(c)}`
        : init.text !== c.name
          ? `name '${init.text}' is not its class name`
          : undefined;
    return problem ? [`${c.file}:${c.line} ${c.name}: ${problem}`] : [];
  });
}
