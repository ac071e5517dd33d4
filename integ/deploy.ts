#!/usr/bin/env -S npx tsx
/**
 * Real-account mode of the integration tests (integ/README.md): for each `integ/integ.*.ts` app,
 * deploy every stack (fixture, fleet, assertions; the integ-tests-alpha assertions run as custom
 * resources while the assertions stack deploys and fail the deployment when they fail), then
 * ALWAYS destroy, whether the deploy passed, failed or was interrupted.
 *
 *   AWS_PROFILE=sandbox AWS_REGION=eu-west-1 npm run integ:deploy
 *
 * Needs credentials for a throwaway account that is CDK-bootstrapped in that region. Without
 * credentials it stops before touching anything and says so (exit 3).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { INTEG_NO_BUNDLING_ENV } from './clock';

/**
 * integ-tests-alpha writes each assertion's result to a stack output `AssertionResults...` as JSON
 * `{"status":"success"}` or `{"status":"fail","message":...}`; only waited assertions fail the
 * deployment themselves. Every failed one is returned (integ-runner reads the same outputs).
 */
export function assertionFailures(outputs: Record<string, Record<string, string>>): string[] {
  const failures: string[] = [];
  for (const [stack, values] of Object.entries(outputs)) {
    for (const [key, value] of Object.entries(values)) {
      if (!key.startsWith('AssertionResults')) continue;
      let parsed: { status?: string; message?: string };
      try {
        parsed = JSON.parse(value) as { status?: string; message?: string };
      } catch {
        failures.push(`${stack}.${key}: unreadable result ${value}`);
        continue;
      }
      if (parsed.status !== 'success') failures.push(`${stack}.${key}: ${parsed.message ?? value}`);
    }
  }
  return failures;
}

function cdk(args: string[], app: string): number {
  const started = Date.now();
  console.log(`$ cdk ${args.join(' ')}`);
  // a deployed function needs its bundle: the snapshot's no-bundling switch never reaches a deploy
  const { [INTEG_NO_BUNDLING_ENV]: _skipBundling, ...env } = process.env;
  const res = spawnSync('npx', ['cdk', ...args, '--app', `npx tsx ${app}`, '--no-notices'], {
    stdio: 'inherit',
    env,
  });
  console.log(`  (${Math.round((Date.now() - started) / 1000)} s, exit ${res.status})`);
  return res.status ?? 1;
}

async function main(): Promise<number> {
  try {
    await new EC2Client({}).config.credentials();
  } catch (err) {
    console.error(
      `integ:deploy needs AWS credentials for a throwaway, CDK-bootstrapped account (${(err as Error).message}).\n` +
        'Nothing was deployed. Offline, `npm run integ` verifies the committed snapshots instead.',
    );
    return 3;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const apps = readdirSync(here).filter((f) => /^integ\..+\.ts$/.test(f) && !f.endsWith('.test.ts'));
  let failed = 0;
  for (const file of apps) {
    const app = join('integ', file);
    let destroyed = false;
    const destroy = () => {
      if (destroyed) return;
      destroyed = true;
      if (cdk(['destroy', '--all', '--force'], app) !== 0) {
        console.error(`TEARDOWN FAILED for ${app}: delete the FleetwardenInteg* stacks by hand.`);
        failed++;
      }
    };
    const onSignal = () => {
      destroy();
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const outputsFile = join(mkdtempSync(join(tmpdir(), 'fw-integ-')), 'outputs.json');
      const rc = cdk(['deploy', '--all', '--require-approval', 'never', '--outputs-file', outputsFile], app);
      const failures =
        rc === 0
          ? assertionFailures(
              JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>,
            )
          : [];
      for (const f of failures) console.log(`  assertion failed: ${f}`);
      const ok = rc === 0 && failures.length === 0;
      console.log(
        ok
          ? `PASS ${app}`
          : `FAIL ${app}${rc !== 0 ? ' (deployment failed: see the failed resource above)' : ''}`,
      );
      if (!ok) failed++;
    } finally {
      destroy();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
