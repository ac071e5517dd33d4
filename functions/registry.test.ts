import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsApproval } from '../shared/kernel/definition';
import type { AnyRemediation } from '../shared/kernel/remediation';
import { REMEDIATIONS } from './registry';

describe('REMEDIATIONS', () => {
  it('lists each remediation once, its entry in its own folder', () => {
    const all: readonly AnyRemediation[] = REMEDIATIONS;
    const names = all.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('orphaned-volumes');
    for (const r of all) {
      expect(r.entry).toBe(`functions/${r.name}/index.ts`);
      expect(existsSync(join(__dirname, '..', r.entry))).toBe(true);
    }
  });

  // an ungated entry refuses a gated remediation only when first invoked (ConfigError); this
  // catches it before deploy: a gated action must be wired with the approval flow
  it('wires every remediation that needs approval with the approval flow, never an ungated handler', () => {
    const gated = REMEDIATIONS.filter((r) => needsApproval(r as AnyRemediation));
    expect(gated.map((r) => r.name)).toContain('orphaned-volumes');
    for (const r of gated) {
      const entry = readFileSync(join(__dirname, '..', r.entry), 'utf8');
      expect(entry, r.entry).not.toMatch(/\bungated\w*LambdaHandler\b/);
    }
  });

  // the kernel's wire* helpers take any gate: an entry that called one could wire a gated
  // remediation report-only and skip the approval refusals of lambdaHandler
  it('builds every entry with the kernel handlers, never its internal wire* helpers', () => {
    for (const r of REMEDIATIONS) {
      const entry = readFileSync(join(__dirname, '..', r.entry), 'utf8');
      expect(entry, r.entry).not.toMatch(/\bwire(?:Scoped)?LambdaHandler\b/);
    }
  });
});
