import { readFileSync } from 'node:fs';

/**
 * The version in the package's package.json: one folder up from this module in the checkout
 * (cli/version.ts) and in the package's bundled CLI (dist/cli.mjs) alike.
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
