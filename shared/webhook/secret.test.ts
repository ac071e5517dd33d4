import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { cachedWebhookSecret } from './secret';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf';
const sm = mockClient(SecretsManagerClient);

describe('cachedWebhookSecret (Secrets Manager adapter of the WebhookSecret port)', () => {
  afterEach(() => sm.reset());

  it('reads the secret once per cache period, then again', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolvesOnce({ SecretString: 's1' }).resolves({
      SecretString: 's2',
    });
    let now = 0;
    const secret = cachedWebhookSecret(ARN, 300, {
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      now: () => now,
    });
    expect(await secret()).toBe('s1');
    now = 299_999;
    expect(await secret()).toBe('s1');
    now = 300_000;
    expect(await secret()).toBe('s2');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a secret without a string value (ConfigError naming the secret)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    const secret = cachedWebhookSecret(ARN, 300, {
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
    });
    const err = await secret().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(ARN);
  });
});
