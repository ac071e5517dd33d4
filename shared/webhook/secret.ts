import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultSecretsManagerClient } from '../aws/clients';
import { ConfigError } from '../core/errors';

/** Port: the GitHub webhook secret (the HMAC key of X-Hub-Signature-256). */
export type WebhookSecret = () => Promise<string>;

/**
 * The webhook secret from Secrets Manager, read at most once per `ttlSeconds` (a rotated secret is
 * picked up within that time). A secret without a string value is a ConfigError naming the secret.
 */
export function cachedWebhookSecret(
  arn: string,
  ttlSeconds: number,
  opts: { client?: SecretsManagerClient; now?: () => number } = {},
): WebhookSecret {
  const now = opts.now ?? Date.now;
  let value: { secret: string; at: number } | undefined;
  return async () => {
    if (value && now() - value.at < ttlSeconds * 1000) return value.secret;
    const client = opts.client ?? defaultSecretsManagerClient();
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new ConfigError(`webhook secret ${arn} has no string value`);
    value = { secret: out.SecretString, at: now() };
    return value.secret;
  };
}
