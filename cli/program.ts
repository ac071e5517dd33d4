import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliDeps } from './deps';
import { debugReport, describeFailure, EXIT } from './errors';
import { packageVersion } from './version';

/**
 * A subcommand: each file in cli/commands/ (other than tests) exports `command`. Adding a command
 * is adding a file; nothing else to edit.
 */
export interface CliCommand {
  name: string;
  /** Add the subcommand to the program. The action must `await` its work (errors propagate). */
  register(program: Command, deps: CliDeps): void;
}

const COMMANDS_DIR = fileURLToPath(new URL('./commands/', import.meta.url));

/** Every `command` exported by cli/commands/*.ts, sorted by name. */
export async function loadCommands(dir = COMMANDS_DIR): Promise<CliCommand[]> {
  const files = (await readdir(dir))
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(test|d)\.[tj]s$/.test(f))
    .sort();
  const commands: CliCommand[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, `file://${dir}`).href)) as { command?: CliCommand };
    if (mod.command) commands.push(mod.command);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}

export function buildProgram(deps: CliDeps, commands: CliCommand[]): Command {
  const program = new Command('fleetwarden')
    .description(
      'Evidence for what the fleetwarden automation did, and why (read-only: use the Investigator role); and the human decisions on its proposals (approve/reject write one, under the Approver role).',
    )
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.stdout.write(s), writeErr: (s) => deps.stderr.write(s) })
    .showHelpAfterError();
  for (const c of commands) c.register(program, deps);
  return program;
}

/** Parse argv, run the command, print one-line errors with a hint; returns the exit code. */
export async function runCli(argv: string[], deps: CliDeps, commands?: CliCommand[]): Promise<number> {
  const program = buildProgram(deps, commands ?? (await loadCommands()));
  try {
    await program.parseAsync(argv);
    return (program as Command & { fleetwardenExitCode?: number }).fleetwardenExitCode ?? EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const failure = describeFailure(err);
    deps.stderr.write(`fleetwarden: ${failure.message}\n  hint: ${failure.hint}\n`);
    if (deps.env.FLEETWARDEN_DEBUG) deps.stderr.write(debugReport(err));
    return failure.code;
  }
}

/** Let a command set a non-zero exit code without throwing (e.g. posture --fail-on-gaps). */
export function setExitCode(program: Command, code: number): void {
  let root: Command = program;
  while (root.parent) root = root.parent;
  (root as Command & { fleetwardenExitCode?: number }).fleetwardenExitCode = code;
}
