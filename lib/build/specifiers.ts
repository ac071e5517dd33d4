/** What a relative specifier names next to the declaration file: `x.d.ts`, `x/index.d.ts`, or nothing. */
export type SpecifierTarget = (specifier: string) => 'file' | 'dir' | undefined;

const RELATIVE = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.\.?\/[^'"]*)\2/g;

/**
 * tsc writes the relative specifiers of the sources as they are (`'../shared/b'`); an ESM consumer
 * resolving with node16/nodenext needs them explicit (`'../shared/b/index.js'`), or the types it
 * imports silently become `any`. Rewrites `from '…'` and `import('…')` in a declaration file.
 */
export function withExplicitExtensions(source: string, target: SpecifierTarget): string {
  return source.replace(RELATIVE, (whole, lead: string, quote: string, spec: string) => {
    const kind = target(spec);
    if (!kind) return whole;
    return `${lead}${quote}${spec}${kind === 'file' ? '.js' : '/index.js'}${quote}`;
  });
}
