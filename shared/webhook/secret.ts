import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultSecretsManagerClient } from '../aws/clients';
import { ConfigError } from '../core/errors';

/** Port: a pool's GitHub webhook secret (the HMAC key of X-Hub-Signature-256), by its secret ARN. */
export type WebhookSecret = (secretArn: string) => Promise<string>;

/**
 * Webhook secrets from Secrets Manager, each read at most once per `ttlSeconds` (a rotated secret is
 * picked up within that time). A secret without a string value is a ConfigError naming the secret.
 */
export function cachedWebhookSecrets(
  ttlSeconds: number,
  opts: { client?: SecretsManagerClient; now?: () => number } = {},
): WebhookSecret {
  const now = opts.now ?? Date.now;
  const values = new Map<string, { secret: string; at: number }>();
  return async (arn) => {
    const value = values.get(arn);
    if (value && now() - value.at < ttlSeconds * 1000) return value.secret;
    const client = opts.client ?? defaultSecretsManagerClient();
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new ConfigError(`webhook secret ${arn} has no string value`);
    values.set(arn, { secret: out.SecretString, at: now() });
    return out.SecretString;
  };
}
