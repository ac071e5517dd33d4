import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { defaultSecretsManagerClient } from '../aws/clients';
import { readEnv } from '../core/env';
import { ConfigError } from '../core/errors';
import {
  createFleetOctokit,
  type GitHubAppCredentials,
  OctokitRunnerRegistry,
} from './octokit-runner-registry';
import type { RunnerRegistry } from './port';

/** Environment of every function that talks to GitHub (set by the RunnerRemediation construct). */
export const GitHubEnv = z.object({
  GITHUB_APP_SECRET_ARN: z.string().startsWith('arn:'),
  GITHUB_OWNER: z.string().min(1),
  GITHUB_REPOSITORY: z.string().min(1).optional(),
});

const CredentialsSchema = z.object({
  appId: z.union([z.string().min(1), z.number().int()]),
  installationId: z.union([z.string().min(1), z.number().int()]),
  privateKey: z
    .string()
    .includes('PRIVATE KEY', { message: 'must be the PEM private key of the GitHub App' }),
});

/**
 * Read the GitHub App credentials secret: JSON `{"appId", "installationId", "privateKey"}`.
 * Errors name the field that is wrong, never its value (the key must not reach the logs).
 */
export async function loadGitHubAppCredentials(
  secretArn: string,
  client: SecretsManagerClient = defaultSecretsManagerClient(),
): Promise<GitHubAppCredentials> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let json: unknown;
  try {
    json = JSON.parse(out.SecretString ?? '');
  } catch (err) {
    throw new ConfigError(
      `GitHub App secret ${secretArn} is not JSON; put {"appId","installationId","privateKey"} into it (README.md, "After the first deploy")`,
      { cause: err },
    );
  }
  const parsed = CredentialsSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`GitHub App secret ${secretArn} is invalid: ${fields.join('; ')}`);
  }
  return parsed.data;
}

export interface RegistryOptions {
  /**
   * 'read': the installation token is down-scoped to reading runners (organisation runners:
   * `organization_self_hosted_runners: read`; repository runners: `administration: read`), so the
   * function cannot change the fleet whatever its code does. @default 'write' (the installation's own)
   */
  access?: 'read' | 'write';
  /** HTTP implementation (tests inject a fake GitHub). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The installation permission GitHub's runner routes need for this scope. */
export const runnerPermissionOf = (repository: string | undefined) =>
  repository ? 'administration' : 'organization_self_hosted_runners';

const memo = new Map<string, Promise<RunnerRegistry>>();

/**
 * The runner registry for a Lambda: credentials from Secrets Manager (read once per container;
 * auth-app renews installation tokens itself). Tests pass `env` and `client` and get a fresh one.
 */
export function runnerRegistryFromEnv(
  env?: Record<string, string | undefined>,
  client?: SecretsManagerClient,
  options: RegistryOptions = {},
): Promise<RunnerRegistry> {
  const build = async () => {
    const e = readEnv(GitHubEnv, env ?? process.env);
    const credentials = await loadGitHubAppCredentials(e.GITHUB_APP_SECRET_ARN, client);
    const octokit = createFleetOctokit({
      credentials,
      ...(options.access === 'read'
        ? { permissions: { [runnerPermissionOf(e.GITHUB_REPOSITORY)]: 'read' as const } }
        : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return new OctokitRunnerRegistry(octokit, { owner: e.GITHUB_OWNER, repository: e.GITHUB_REPOSITORY });
  };
  if (env !== undefined || client !== undefined) return build();
  const key = options.access ?? 'write';
  const cached =
    memo.get(key) ??
    build().catch((err: unknown) => {
      memo.delete(key); // a fixed secret must be picked up by the next invocation
      throw err;
    });
  memo.set(key, cached);
  return cached;
}
