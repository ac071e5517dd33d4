import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import { SCOPING } from './topology';

/**
 * The simulator wires each hub function across scopes the way its Lambda entry does (SCOPING);
 * this keeps the two equal: an entry built with `scopedLambdaHandler` (or its ungated form)/`createInScopes` acts per
 * event scope, one whose ports come from `fleetAcrossScopes` sees the whole fleet, any other only
 * the hub.
 */
function entryScoping(entry: string): 'event' | 'fleet' | undefined {
  const source = readFileSync(new URL(`../../${entry}`, import.meta.url), 'utf8');
  if (/\b(?:scoped|ungatedScoped)LambdaHandler\(|\bcreateInScopes\(/.test(source)) return 'event';
  if (/\bfleetAcrossScopes\(/.test(source)) return 'fleet';
  return undefined;
}

describe('the simulator wires every function across scopes as its entry does', () => {
  it.each(REMEDIATIONS.map((d) => [d.name, d.entry] as const))('%s', (name, entry) => {
    expect(SCOPING[name]).toBe(entryScoping(entry));
  });
});
