import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
