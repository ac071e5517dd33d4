import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { OctokitRunnerRegistry } from './octokit-runner-registry';
import { loadGitHubAppCredentials, READ_ACCESS, runnerRegistryFromEnv } from './registry-from-env';
import { FakeGitHubApi, testPrivateKey } from './testing/fake-github-api';

const sm = mockClient(SecretsManagerClient);
const client = sm as unknown as SecretsManagerClient;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fleetwarden/github-app-AbCdEf';

describe('GitHub App credentials from Secrets Manager', () => {
  beforeEach(() => sm.reset());

  it('reads and validates the secret JSON', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      SecretString: JSON.stringify({ appId: 123, installationId: '456', privateKey: testPrivateKey() }),
    });
    const creds = await loadGitHubAppCredentials(ARN, client);
    expect(creds).toMatchObject({ appId: 123, installationId: '456' });
  });

  it('names the missing field and never prints the key', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ appId: 123, privateKey: 'super-secret-key-material' }),
    });
    const err = (await loadGitHubAppCredentials(ARN, client).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/installationId/);
    expect(err.message).not.toContain('super-secret-key-material');
  });

  it('says the secret is still the placeholder when it is not JSON', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'REPLACE ME' });
    await expect(loadGitHubAppCredentials(ARN, client)).rejects.toThrow(/not JSON.*README/);
  });

  it('builds an organisation-scoped registry from the environment', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ appId: 1, installationId: 2, privateKey: testPrivateKey() }),
    });
    const registry = await runnerRegistryFromEnv(
      { GITHUB_APP_SECRET_ARN: ARN, GITHUB_OWNER: 'acme' },
      client,
    );
    expect(registry).toBeInstanceOf(OctokitRunnerRegistry);
  });

  it.each([
    ['organisation', {}, { organization_self_hosted_runners: 'read' }],
    ['repository', { GITHUB_REPOSITORY: 'infra' }, { administration: 'read' }],
  ])(
    'a read-only registry (%s runners) asks GitHub for a read-only installation token',
    async (_s, scope, asked) => {
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ appId: 1, installationId: 2, privateKey: testPrivateKey() }),
      });
      const api = new FakeGitHubApi('acme', 'GITHUB_REPOSITORY' in scope ? { repository: 'infra' } : {});
      const id = api.add({ name: 'r' });
      const registry = await runnerRegistryFromEnv(
        { GITHUB_APP_SECRET_ARN: ARN, GITHUB_OWNER: 'acme', ...scope },
        client,
        { access: READ_ACCESS, fetch: api.fetch },
      );
      expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
      expect(api.tokenRequests).toEqual([{ installationId: 2, permissions: asked }]);
    },
  );

  it('talks to a GHES at GITHUB_API_URL: the token exchange and the runner routes both go there', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ appId: 1, installationId: 2, privateKey: testPrivateKey() }),
    });
    const api = new FakeGitHubApi('acme', { baseUrl: 'https://ghe.example.com/api/v3' });
    const id = api.add({ name: 'r' });
    const registry = await runnerRegistryFromEnv(
      { GITHUB_APP_SECRET_ARN: ARN, GITHUB_OWNER: 'acme', GITHUB_API_URL: 'https://ghe.example.com/api/v3' },
      client,
      { access: READ_ACCESS, fetch: api.fetch },
    );
    expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    expect(api.requests.map((r) => r.url)).toEqual([
      'https://ghe.example.com/api/v3/app/installations/2/access_tokens',
      `https://ghe.example.com/api/v3/orgs/acme/actions/runners/${id}`,
    ]);
    expect(api.tokenRequests).toEqual([
      { installationId: 2, permissions: { organization_self_hosted_runners: 'read' } },
    ]);
  });

  it('reads enterprise runners (GITHUB_ENTERPRISE) with the classic token the secret holds', async () => {
    const api = new FakeGitHubApi('acme', { enterprise: 'acme-corp' });
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: api.classicToken }) });
    const id = api.add({ name: 'r' });
    for (const access of [READ_ACCESS, 'write'] as const) {
      const registry = await runnerRegistryFromEnv(
        { GITHUB_APP_SECRET_ARN: ARN, GITHUB_ENTERPRISE: 'acme-corp' },
        client,
        { access, fetch: api.fetch },
      );
      expect(await registry.getRunner(id)).toMatchObject({ name: 'r' });
    }
    expect(api.requests.map((r) => r.path)).toEqual([
      `/enterprises/acme-corp/actions/runners/${id}`,
      `/enterprises/acme-corp/actions/runners/${id}`,
    ]);
  });

  it('refuses App credentials for enterprise runners, saying why (GitHub takes no installation token there)', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ appId: 1, installationId: 2, privateKey: testPrivateKey() }),
    });
    const err = await runnerRegistryFromEnv(
      { GITHUB_APP_SECRET_ARN: ARN, GITHUB_ENTERPRISE: 'acme-corp' },
      client,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/manage_runners:enterprise/);
  });

  it.each([
    [
      { GITHUB_OWNER: 'acme', GITHUB_ENTERPRISE: 'acme-corp' },
      /GITHUB_OWNER.*GITHUB_ENTERPRISE|GITHUB_ENTERPRISE.*GITHUB_OWNER/,
    ],
    [{ GITHUB_ENTERPRISE: 'acme-corp', GITHUB_REPOSITORY: 'infra' }, /GITHUB_REPOSITORY/],
    [{}, /GITHUB_OWNER.*GITHUB_ENTERPRISE/],
    [{ GITHUB_OWNER: 'acme', GITHUB_API_URL: 'http://ghe.example.com/api/v3' }, /GITHUB_API_URL/],
  ])(
    'refuses an environment without exactly one scope, or with a bad API URL: %o',
    async (scope, message) => {
      await expect(runnerRegistryFromEnv({ GITHUB_APP_SECRET_ARN: ARN, ...scope }, client)).rejects.toThrow(
        message,
      );
    },
  );

  it('refuses an environment without the secret ARN, naming the variable', async () => {
    await expect(runnerRegistryFromEnv({ GITHUB_OWNER: 'acme' }, client)).rejects.toThrow(
      /GITHUB_APP_SECRET_ARN/,
    );
  });
});
