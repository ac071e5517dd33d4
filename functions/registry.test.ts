import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsApproval } from '../shared/kernel/definition';
import type { AnyRemediation } from '../shared/kernel/remediation';
import { REMEDIATIONS } from './registry';

/** A remediation's own code: its folder's modules (tests aside). */
function sourcesOf(r: AnyRemediation): string {
  const dir = join(__dirname, '..', dirname(r.entry));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** Performs without the approval gate: `performUngated`, or an ungated Lambda handler. */
const UNGATED = /\b(?:performUngated|ungated\w*LambdaHandler)\b/;

/** The action kinds that need a human's approval: irreversible and not `unattended`. */
const gatedKinds = (r: AnyRemediation) =>
  Object.entries(r.actions as Record<string, { reversible: boolean; unattended?: string }>)
    .filter(([, a]) => !a.reversible && !a.unattended)
    .map(([kind]) => kind);

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

  // performUngated fails a kind that needs approval only when it runs (UngatedPerformError): this
  // catches it before deploy, for every remediation whose code performs without the gate
  it('performs without the approval gate only remediations whose every action kind needs no approval', () => {
    const ungated = REMEDIATIONS.filter((r) => UNGATED.test(sourcesOf(r as AnyRemediation)));
    expect(ungated.map((r) => r.name)).toEqual(expect.arrayContaining(['runner-drain', 'dns-sync']));
    for (const r of ungated) expect(gatedKinds(r as AnyRemediation), r.name).toEqual([]);
  });

  it('sees a gated kind in such a remediation (one injected into runner-drain)', () => {
    const drain = REMEDIATIONS.find((r) => r.name === 'runner-drain') as AnyRemediation;
    const actions = drain.actions as Record<string, object>;
    const injected = {
      ...drain,
      actions: { ...actions, deregister: { ...actions.deregister, unattended: undefined } },
    };
    expect(gatedKinds(injected as unknown as AnyRemediation)).toEqual(['deregister']);
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
