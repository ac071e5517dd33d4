import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../functions/registry';
import { requiredGitHubPermissions } from '../shared/doctor/checks';

const manifest = JSON.parse(
  readFileSync(new URL('../docs/github-app-manifest.json', import.meta.url), 'utf8'),
) as {
  default_permissions: Record<string, string>;
  default_events: string[];
  hook_attributes: { url: string; active: boolean };
  public: boolean;
};
const doc = readFileSync(new URL('../docs/github-app.md', import.meta.url), 'utf8');

describe('docs/github-app-manifest.json (the App a fleet needs, from the definitions)', () => {
  const required = requiredGitHubPermissions(REMEDIATIONS);

  it("asks for exactly the permissions the functions' actions declare, at their level", () => {
    expect(manifest.default_permissions).toEqual(
      Object.fromEntries(required.map((p) => [p.permission, p.level])),
    );
  });

  it('subscribes to workflow_job only, with an active webhook, private to the organisation', () => {
    expect(manifest.default_events).toEqual(['workflow_job']);
    expect(manifest.hook_attributes.active).toBe(true);
    expect(manifest.public).toBe(false);
  });

  it('docs/github-app.md says which function uses each permission', () => {
    for (const p of required) {
      expect(doc).toContain(`\`${p.permission}: ${p.level}\``);
      for (const fn of p.usedBy) expect(doc).toContain(fn.split(' ')[0] as string);
    }
  });
});
