import { describe, expect, it } from 'vitest';
import type { GitHubRunner } from '../github/port';
import { censusOf, trustNames } from './census';
import { INSTANCE_LABEL_PREFIX } from './matching';

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const runner = (id: number, name: string, instance?: string): GitHubRunner => ({
  id,
  name,
  os: 'linux',
  status: 'online',
  busy: false,
  labels: instance ? [`${INSTANCE_LABEL_PREFIX}${instance}`] : [],
});
const T = new Date('2026-11-30T12:00:00Z');
const later = (s: number) => new Date(T.getTime() + s * 1000);

describe('runner census: what one full listing says about name lookups', () => {
  it('names the instances with a runner under another name than ci-<id> or <id>', () => {
    const c = censusOf(
      [
        runner(1, `ci-${A}`, A),
        runner(2, B),
        runner(3, `gpu-pool-${B}`),
        runner(4, 'agent-x', A),
        runner(5, 'web'),
      ],
      T,
    );
    expect(c.takenAt).toEqual(T);
    expect(c.otherNames).toEqual([A, B]);
  });

  it('trusts the name lookups of an instance only from a listing begun at or after the first look', () => {
    const c = censusOf([runner(1, `ci-${A}`, A), runner(2, `gpu-pool-${B}`, B)], later(10));
    expect(trustNames(c, A, later(10))).toBe('trust');
    expect(trustNames(c, A, later(5))).toBe('trust');
    // a runner registered between an older listing and the drain would be missed: not trusted
    expect(trustNames(c, A, later(11))).toBe('wait');
    expect(trustNames(undefined, A, T)).toBe('wait');
    // another name for the instance: only a listing finds every runner of it
    expect(trustNames(c, B, later(5))).toBe('list');
  });

  it('a census too large to keep names every instance (every drain then lists)', () => {
    const many = Array.from({ length: 5001 }, (_, k) =>
      runner(k + 1, `agent-${k}-i-${(0x1000000000 + k).toString(16).padStart(17, '0')}`),
    );
    const c = censusOf(many, T);
    expect(c.otherNames).toBe('all');
    expect(trustNames(c, A, T)).toBe('list');
  });
});
