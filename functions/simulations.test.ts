import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_FAULTS, FAULT_FLAGS } from '../cli/simulate/fault-flags';
import { GENERIC_FAULTS } from '../cli/simulate/faults';
import { SIMULATIONS } from './simulations';

describe('per-remediation simulations', () => {
  it('each names a function of the fleet, once', () => {
    const names = SIMULATIONS.map((s) => s.function);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names)
      expect(
        ['index.ts', 'handler.ts'].some((f) => existsSync(new URL(`./${n}/${f}`, import.meta.url))),
        `${n} has no handler entry`,
      ).toBe(true);
  });

  it('are found, not listed: every functions/*/simulation.ts, the historic five first in their order (seeded runs depend on it), then the others by name', () => {
    const found = readdirSync(new URL('./', import.meta.url), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(new URL(`./${d.name}/simulation.ts`, import.meta.url)))
      .map((d) => d.name);
    const names = SIMULATIONS.map((s) => s.function);
    expect([...names].sort()).toEqual([...found].sort());
    expect(names.slice(0, 5)).toEqual([
      'runner-drain',
      'runner-sweep',
      'dns-sync',
      'webhook-ingress',
      'dns-reconcile',
    ]);
    const rest = names.slice(5);
    expect(rest).toEqual([...rest].sort());
    expect(rest).toContain('orphaned-volumes');
  });

  it('the CLI fault flags are derived from the simulations (plus the cross-cutting faults)', () => {
    const declared = [...GENERIC_FAULTS, ...SIMULATIONS.flatMap((s) => s.faults)];
    expect(
      Object.values(FAULT_FLAGS)
        .map((f) => f.flag)
        .sort(),
    ).toEqual(declared.map((f) => f.flag).sort());
    for (const f of declared)
      expect(Object.values(FAULT_FLAGS)).toContainEqual({ flag: f.flag, description: f.description });
    expect(Object.keys(ALL_FAULTS).sort()).toEqual(Object.keys(FAULT_FLAGS).sort());
    expect(Object.values(ALL_FAULTS).every(Boolean)).toBe(true);
  });

  it("a remediation's fault lives with it: runner-drain's warm-pool scale-in, dns-sync's name claimants", () => {
    const flagsOf = (fn: string) => SIMULATIONS.find((s) => s.function === fn)?.faults.map((f) => f.flag);
    expect(flagsOf('runner-drain')).toContain('warm-pool-scale-in');
    expect(flagsOf('dns-sync')).toContain('name-claimants');
    expect(flagsOf('webhook-ingress')).toEqual(
      expect.arrayContaining(['webhook-replays', 'form-encoded', 'stale-replays']),
    );
    expect(FAULT_FLAGS.warmPoolScaleIn?.flag).toBe('warm-pool-scale-in');
  });
});
