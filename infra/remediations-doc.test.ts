import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../functions/registry';
import { remediationsDoc } from '../shared/kernel/docs';

describe('docs/remediations.md', () => {
  it('is what the registered definitions say (regenerate with `npm run docs`)', () => {
    const doc = readFileSync(new URL('../docs/remediations.md', import.meta.url), 'utf8');
    expect(doc).toBe(remediationsDoc(REMEDIATIONS));
  });

  it('shows each remediation, each action kind with its reversibility, and each setting', () => {
    const doc = remediationsDoc(REMEDIATIONS);
    for (const r of REMEDIATIONS) expect(doc).toContain(`## ${r.name}`);
    expect(doc).toMatch(/\| `delete` \| `volume\.delete` \| .* \| irreversible: \*\*needs approval\*\* \|/);
    expect(doc).toContain('`MAX_REMOVAL_SHARE`');
  });
});
