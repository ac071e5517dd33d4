/**
 * Commands that need the repository's checkout (the simulator synthesizes the repo's own app and runs
 * its handlers from source): available through `npm start` there, left out of the installed CLI.
 */
export const DEV_ONLY_COMMANDS = ['simulate'];

/** Files of cli/commands/ that `loadCommands` registers (the same filter), dev-only ones aside. */
export function bundledCommandFiles(files: readonly string[]): string[] {
  return files
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(test|d)\.[tj]s$/.test(f))
    .filter((f) => !DEV_ONLY_COMMANDS.includes(f.replace(/\.[mc]?[tj]s$/, '')))
    .sort();
}

/**
 * Source of the installed CLI's entry (bundled from cli/, where it resolves): the command files
 * imported statically, since a bundle has no cli/commands/ folder to read at run time. They hold only
 * the commands' options: each action imports its work when it runs (a chunk of its own).
 */
export function cliEntrySource(files: readonly string[]): string {
  const chosen = bundledCommandFiles(files);
  return [
    '#!/usr/bin/env node',
    "import { defaultDeps } from './deps';",
    "import { runCli } from './program';",
    ...chosen.map((f, i) => `import * as m${i} from './commands/${f}';`),
    `const commands = [${chosen.map((_, i) => `m${i}`).join(', ')}]`,
    '  .map((m) => m.command)',
    '  .filter((c) => c !== undefined)',
    '  .sort((a, b) => a.name.localeCompare(b.name));',
    'process.exitCode = await runCli(process.argv, defaultDeps(), commands);',
    '',
  ].join('\n');
}
