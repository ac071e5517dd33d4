import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import '../core/zod-locale';
import * as z from 'zod/mini';
import { defaultSecretsManagerClient } from '../aws/clients';
import { readEnv } from '../core/env';
import { ConfigError } from '../core/errors';
import {
  createFleetOctokit,
  type GitHubAppCredentials,
  type GitHubCredentials,
  OctokitRunnerRegistry,
} from './octokit-runner-registry';
import type { RunnerRegistry } from './port';
import { apiHostOf, DEFAULT_GITHUB_API_URL, type GitHubScope, runnerPermissionOf } from './scope';
import { createScopedAppAuth, type DownScope } from './scoped-app-auth';

const httpsApiUrl = z.string().check(
  z.refine(
    (v) => {
      try {
        apiHostOf(v);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an https URL without query, e.g. https://ghe.example.com/api/v3' },
  ),
);

/**
 * Environment of every function that talks to GitHub (set by the RunnerRemediation construct): the
 * scope is GITHUB_OWNER (+ GITHUB_REPOSITORY) or GITHUB_ENTERPRISE, exactly one; GITHUB_API_URL is
 * the REST root (a GitHub Enterprise Server's `https://<host>/api/v3`).
 */
export const GitHubEnv = z
  .object({
    GITHUB_APP_SECRET_ARN: z.string().check(z.startsWith('arn:')),
    GITHUB_OWNER: z.optional(z.string().check(z.minLength(1))),
    GITHUB_REPOSITORY: z.optional(z.string().check(z.minLength(1))),
    GITHUB_ENTERPRISE: z.optional(z.string().check(z.minLength(1))),
    GITHUB_API_URL: z._default(httpsApiUrl, DEFAULT_GITHUB_API_URL),
  })
  .check(
    z.superRefine((e, ctx) => {
      if ((e.GITHUB_OWNER === undefined) === (e.GITHUB_ENTERPRISE === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['GITHUB_OWNER'],
          message:
            'set exactly one of GITHUB_OWNER (organisation or repository runners) and GITHUB_ENTERPRISE',
        });
      if (e.GITHUB_ENTERPRISE !== undefined && e.GITHUB_REPOSITORY !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['GITHUB_REPOSITORY'],
          message: 'enterprise runners (GITHUB_ENTERPRISE) belong to no repository',
        });
    }),
  );

/** The scope the environment names (validated by GitHubEnv). */
function scopeOf(e: z.infer<typeof GitHubEnv>): GitHubScope {
  return e.GITHUB_ENTERPRISE !== undefined
    ? { enterprise: e.GITHUB_ENTERPRISE }
    : { owner: e.GITHUB_OWNER as string, repository: e.GITHUB_REPOSITORY };
}

const CredentialsSchema = z.object({
  appId: z.union([z.string().check(z.minLength(1)), z.int()]),
  installationId: z.union([z.string().check(z.minLength(1)), z.int()]),
  privateKey: z
    .string()
    .check(z.includes('PRIVATE KEY', { message: 'must be the PEM private key of the GitHub App' })),
});

const TokenSchema = z.object({ token: z.string().check(z.minLength(1)) });

/**
 * Read the GitHub App credentials secret: JSON `{"appId", "installationId", "privateKey"}`.
 * Errors name the field that is wrong, never its value (the key must not reach the logs).
 */
export async function loadGitHubAppCredentials(
  secretArn: string,
  client: SecretsManagerClient = defaultSecretsManagerClient(),
): Promise<GitHubAppCredentials> {
  return (await loadCredentials(secretArn, client, false)) as GitHubAppCredentials;
}

/**
 * The credentials secret of a scope: the GitHub App's (above), or for enterprise runners a classic
 * token `{"token"}` with the manage_runners:enterprise scope (GitHub takes no App installation
 * token on those routes: shared/github/scope.ts).
 */
async function loadCredentials(
  secretArn: string,
  client: SecretsManagerClient | undefined,
  enterprise: boolean,
): Promise<GitHubCredentials> {
  const out = await (client ?? defaultSecretsManagerClient()).send(
    new GetSecretValueCommand({ SecretId: secretArn }),
  );
  let json: unknown;
  try {
    json = JSON.parse(out.SecretString ?? '');
  } catch (err) {
    throw new ConfigError(
      `GitHub App secret ${secretArn} is not JSON; put {"appId","installationId","privateKey"} into it (README.md, "After the first deploy")`,
      { cause: err },
    );
  }
  if (enterprise) {
    const token = TokenSchema.safeParse(json);
    if (token.success) return token.data;
    throw new ConfigError(
      `GitHub secret ${secretArn} must hold {"token"}: a classic token with the manage_runners:enterprise scope. GitHub's enterprise runner routes take no GitHub App installation token (REST reference, "List self-hosted runners for an enterprise")`,
    );
  }
  const parsed = CredentialsSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`GitHub App secret ${secretArn} is invalid: ${fields.join('; ')}`);
  }
  return parsed.data;
}

/** How a registry's installation token is down-scoped (`READ_ACCESS`). */
export interface RegistryAccess {
  downScope(scope: GitHubScope): DownScope | undefined;
}

/**
 * Read access: the installation token is down-scoped to reading runners (organisation runners:
 * `organization_self_hosted_runners: read`; repository runners: `administration: read`), so the
 * function cannot change the fleet whatever its code does. Enterprise runners have none to
 * down-scope to (a classic token's scopes are fixed): the function's own calls are then its only
 * limit (README, "GitHub Enterprise Server"). An object, not a flag: a function that does not
 * down-scope bundles none of it (createScopedAppAuth).
 */
export const READ_ACCESS: RegistryAccess = {
  downScope(scope) {
    const permission = runnerPermissionOf(scope);
    return permission ? { permissions: { [permission]: 'read' }, strategy: createScopedAppAuth } : undefined;
  },
};

export interface RegistryOptions {
  /** `READ_ACCESS`, or 'write' (the installation's own permissions). @default 'write' */
  access?: RegistryAccess | 'write';
  /** HTTP implementation (tests inject a fake GitHub). @default globalThis.fetch */
  fetch?: typeof fetch;
}

export { runnerPermissionOf } from './scope';

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
  const access = options.access === 'write' ? undefined : options.access;
  const build = async () => {
    const e = readEnv(GitHubEnv, env ?? process.env);
    const scope = scopeOf(e);
    const credentials = await loadCredentials(
      e.GITHUB_APP_SECRET_ARN,
      client,
      scope.enterprise !== undefined,
    );
    const downScope = access?.downScope(scope);
    const octokit = createFleetOctokit({
      credentials,
      ...(downScope ? { downScope } : {}),
      ...(e.GITHUB_API_URL !== DEFAULT_GITHUB_API_URL ? { baseUrl: e.GITHUB_API_URL } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return new OctokitRunnerRegistry(octokit, scope);
  };
  if (env !== undefined || client !== undefined) return build();
  const key = access ? 'read' : 'write';
  const cached =
    memo.get(key) ??
    build().catch((err: unknown) => {
      memo.delete(key); // a fixed secret must be picked up by the next invocation
      throw err;
    });
  memo.set(key, cached);
  return cached;
}
