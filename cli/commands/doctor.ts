import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import type { DoctorPorts } from '../doctor/ports';
import type { DoctorOptions } from '../doctor/run';
import type { CliCommand } from '../program';

/**
 * `fleetwarden doctor` with the ports it reads through (tests pass fakes; default: the AWS SDK and
 * GitHub adapters). Its options here; its work (cli/doctor/run.ts) loads when it runs.
 */
export function doctorCommand(makePorts?: (region: string) => DoctorPorts): CliCommand {
  return {
    name: 'doctor',
    register(program: Command, deps: CliDeps) {
      program
        .command('doctor')
        .description(
          'Check a deployment, read-only (Investigator role; the secrets and GitHub checks need credentials that may read the two secrets): stack outputs (CloudFormation), secrets, GitHub App permissions, webhook, lifecycle hooks, DLQs, alarms, correlator; each check says pass or fail and the fix',
        )
        .option(
          '--stack-name <name>',
          'the fleet stack (its outputs, and the prefix of its queues, alarms and logs)',
          'Fleetwarden',
        )
        .option(
          '--outputs <file>',
          'read the outputs from this `cdk deploy --outputs-file` file instead of CloudFormation',
        )
        .option('--region <region>', 'region of the stack (default: $AWS_REGION)')
        .option('--asg <names...>', "runner Auto Scaling groups that must have the fleet's lifecycle hook")
        .option('--owner <org>', 'GitHub organisation the App must be installed on (default: where it is)')
        .option(
          '--github-api-url <url>',
          "a GitHub Enterprise Server pool's REST root (https://<host>/api/v3): the App is checked there",
        )
        .option('--correlator-minutes <n>', 'the correlator must have run within this many minutes', '30')
        .option('--json', 'print the checks as JSON')
        .action(async (opts: DoctorOptions, cmd: Command) =>
          (await import('../doctor/run')).doctor(opts, cmd, deps, makePorts),
        );
    },
  };
}

export const command = doctorCommand();
