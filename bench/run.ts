/**
 * `npm run bench`: runs every `bench/*.bench.ts` scenario in turn. Each exports
 * `run(): Promise<void>` and prints its figures with a ratio against a naive design measured in the
 * same run. Benchmarks print; they do not assert timings (tests do the asserting).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// the handlers' Powertools logs would drown the figures
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || f.includes(only))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${only ?? '*'} in ${here}`);
  process.exit(1);
}
for (const file of files) {
  console.log(`\n=== ${file.replace(/\.bench\.ts$/, '')} ===`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<void> };
  await mod.run();
}
