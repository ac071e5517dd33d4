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
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';

function cdk(args: string[], app: string): number {
  const started = Date.now();
  console.log(`$ cdk ${args.join(' ')}`);
  const res = spawnSync('npx', ['cdk', ...args, '--app', `npx tsx ${app}`, '--no-notices'], {
    stdio: 'inherit',
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
      const rc = cdk(['deploy', '--all', '--require-approval', 'never'], app);
      console.log(rc === 0 ? `PASS ${app}` : `FAIL ${app} (see the failed assertion resource above)`);
      if (rc !== 0) failed++;
    } finally {
      destroy();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
