import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Relative references a reader follows: markdown links, and code spans that are paths (`../x`, `./x`). */
function references(markdown: string): { target: string; link: boolean }[] {
  const links = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] ?? '').replace(/#.*$/, ''))
    .filter((t) => t !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((target) => ({ target, link: true }));
  const spans = [...markdown.matchAll(/`(\.\.?\/[^`\s]+)`/g)].map((m) => ({
    target: m[1] ?? '',
    link: false,
  }));
  return [...links, ...spans];
}

describe.each(['README.md', 'AGENTS.md'])(
  '%s sends the reader only to files inside the repository',
  (doc) => {
    const text = readFileSync(resolve(ROOT, doc), 'utf8');
    const refs = references(text);
    it.each(refs.length > 0 ? refs : [{ target: '', link: false }])('$target', ({ target, link }) => {
      if (target === '') return expect(refs).toEqual([]);
      const path = resolve(dirname(resolve(ROOT, doc)), target);
      expect(relative(ROOT, path).startsWith('..'), `${target} leaves the repository`).toBe(false);
      if (link) expect(existsSync(path), `${target} does not exist`).toBe(true);
    });
  },
);
