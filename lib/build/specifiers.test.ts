import { describe, expect, it } from 'vitest';
import { withExplicitExtensions } from './specifiers';

// what exists next to the declaration being rewritten: a file x.d.ts, or a folder x/ with index.d.ts
const layout = (spec: string) =>
  ({ './a': 'file', '../shared/b': 'dir' })[spec] as 'file' | 'dir' | undefined;

describe('withExplicitExtensions (declarations an ESM consumer with nodenext resolution can follow)', () => {
  it('adds .js to a relative file, /index.js to a folder, in from-clauses and import() types', () => {
    const source = [
      "import type { A } from './a';",
      "export { B } from '../shared/b';",
      'declare const c: import("./a").C;',
      "import { Stack } from 'aws-cdk-lib';",
    ].join('\n');
    expect(withExplicitExtensions(source, layout)).toBe(
      [
        "import type { A } from './a.js';",
        "export { B } from '../shared/b/index.js';",
        'declare const c: import("./a.js").C;',
        "import { Stack } from 'aws-cdk-lib';",
      ].join('\n'),
    );
  });

  it('leaves a specifier it cannot find as it is (tsc would have failed on it)', () => {
    expect(withExplicitExtensions("export * from './missing';", layout)).toBe("export * from './missing';");
  });
});
