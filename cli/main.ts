import { defaultDeps } from './deps';
import { runCli } from './program';

/** The `fleetwarden` operator CLI: registers every command in cli/commands/ and runs one. */
process.exitCode = await runCli(process.argv, defaultDeps());
