import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { cachedWebhookSecrets } from './secret';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf';
const GHES_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-ghes-GhIjKl';
const sm = mockClient(SecretsManagerClient);

describe('cachedWebhookSecrets (Secrets Manager adapter of the WebhookSecret port)', () => {
  afterEach(() => sm.reset());

  it('reads the secret once per cache period, then again', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolvesOnce({ SecretString: 's1' }).resolves({
      SecretString: 's2',
    });
    let now = 0;
    const secret = cachedWebhookSecrets(300, {
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      now: () => now,
    });
    expect(await secret(ARN)).toBe('s1');
    now = 299_999;
    expect(await secret(ARN)).toBe('s1');
    now = 300_000;
    expect(await secret(ARN)).toBe('s2');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it("keeps each pool's secret apart: one read per secret per period", async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: 'github-com' })
      .on(GetSecretValueCommand, { SecretId: GHES_ARN })
      .resolves({ SecretString: 'ghes' });
    const secret = cachedWebhookSecrets(300, {
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      now: () => 0,
    });
    for (let i = 0; i < 3; i++) {
      expect(await secret(ARN)).toBe('github-com');
      expect(await secret(GHES_ARN)).toBe('ghes');
    }
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      ARN,
      GHES_ARN,
    ]);
  });

  it('refuses a secret without a string value (ConfigError naming the secret)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    const secret = cachedWebhookSecrets(300, {
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
    });
    const err = await secret(ARN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(ARN);
  });
});
