import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every import specifier of a file, with whether it is type-only (erased at run time). */
function importsOf(file: string): Array<{ spec: string; typeOnly: boolean }> {
  const src = readFileSync(file, 'utf8');
  const out: Array<{ spec: string; typeOnly: boolean }> = [];
  for (const m of src.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms))
    out.push({ spec: m[3] as string, typeOnly: Boolean(m[2]) });
  return out;
}

const resolveTs = (from: string, spec: string) =>
  [`${resolve(dirname(from), spec)}.ts`, join(resolve(dirname(from), spec), 'index.ts')].find(existsSync);

/** The project files a module loads at run time (type-only imports erased), itself included. */
function runtimeClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of importsOf(file)) {
      if (i.typeOnly || !i.spec.startsWith('.')) continue;
      const next = resolveTs(file, i.spec);
      if (next) visit(next);
    }
  };
  visit(join(ROOT, entry));
  return [...seen].map((f) => relative(ROOT, f));
}

describe('simulator layering', () => {
  it('the generic engine imports nothing of the fleet domain (DNS, runners, GitHub, webhooks, EC2)', () => {
    const specs = importsOf(join(ROOT, 'cli/simulate/engine.ts')).map((i) => i.spec);
    const domain = specs.filter((s) =>
      /shared\/(dns|runners|github|webhook|ec2|autoscaling)\b|\/functions\/|\.\/(world|scenario|fleet-|faults|webhooks)/.test(
        s,
      ),
    );
    expect(domain).toEqual([]);
  });

  it('the fault flags load no handler and no world (the CLI reads them before it silences the loggers)', () => {
    const loaded = runtimeClosure('cli/simulate/fault-flags.ts');
    expect(loaded.filter((f) => /handler\.ts$|simulate\/world\.ts$|simulate\/scenario\.ts$/.test(f))).toEqual(
      [],
    );
  });

  it('nor does any simulation the fault flags find (functions/*/simulation.ts, imported by discovery)', () => {
    const dirs = readdirSync(join(ROOT, 'functions'), { withFileTypes: true }).filter((d) =>
      existsSync(join(ROOT, 'functions', d.name, 'simulation.ts')),
    );
    expect(dirs.length).toBeGreaterThan(5);
    const loaded = dirs.flatMap((d) => runtimeClosure(`functions/${d.name}/simulation.ts`));
    const handlers = /functions\/[^/]+\/(handler|index|definition)\.ts$|simulate\/(world|scenario)\.ts$/;
    expect([...new Set(loaded.filter((f) => handlers.test(f)))]).toEqual([]);
  });
});
