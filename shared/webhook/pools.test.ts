import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { readSettings } from '../kernel/settings';
import { webhookPoolsOf, webhookPoolsSetting } from './pools';

const ARN = (n: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${n}-AbCdEf`;
const spec = { pools: webhookPoolsSetting('WEBHOOK_POOLS') };

describe('the webhook pools setting (WEBHOOK_POOLS)', () => {
  it('reads a JSON list of {pool, host, secretArn}, hosts lowercased', () => {
    const pools = [
      { pool: 'default', host: 'github.com', secretArn: ARN('a') },
      { pool: 'ghes', host: 'GHE.Example.com', secretArn: ARN('b') },
    ];
    expect(readSettings(spec, { WEBHOOK_POOLS: JSON.stringify(pools) }).pools).toEqual([
      pools[0],
      { ...pools[1], host: 'ghe.example.com' },
    ]);
    expect(spec.pools.toEnv(pools)).toBe(JSON.stringify(pools));
  });

  it.each([
    ['not JSON', '[{', /WEBHOOK_POOLS.*not JSON/],
    ['no pool', '[]', /WEBHOOK_POOLS.*at least one/],
    [
      'a name twice',
      JSON.stringify([
        { pool: 'a', host: 'github.com', secretArn: ARN('a') },
        { pool: 'a', host: 'ghe.example.com', secretArn: ARN('b') },
      ]),
      /pool "a" is listed twice/,
    ],
    [
      'one secret for two pools (a delivery could not be attributed)',
      JSON.stringify([
        { pool: 'a', host: 'github.com', secretArn: ARN('a') },
        { pool: 'b', host: 'ghe.example.com', secretArn: ARN('a') },
      ]),
      /pools a and b share the webhook secret/,
    ],
    [
      'a bad pool name',
      JSON.stringify([{ pool: 'Default', host: 'github.com', secretArn: ARN('a') }]),
      /WEBHOOK_POOLS/,
    ],
    [
      'a URL for a host',
      JSON.stringify([{ pool: 'a', host: 'https://ghe.example.com', secretArn: ARN('a') }]),
      /host/,
    ],
  ])('refuses %s', (_what, value, message) => {
    expect(() => readSettings(spec, { WEBHOOK_POOLS: value })).toThrow(message);
  });
});

describe('the pools a webhook ingress serves', () => {
  it("takes today's single secret as pool default on github.com", () => {
    expect(webhookPoolsOf({ secretArn: ARN('a'), pools: undefined })).toEqual([
      { pool: 'default', host: 'github.com', secretArn: ARN('a') },
    ]);
  });

  it('takes the pools list as given', () => {
    const pools = [{ pool: 'ghes', host: 'ghe.example.com', secretArn: ARN('b') }];
    expect(webhookPoolsOf({ secretArn: undefined, pools })).toEqual(pools);
  });

  it('refuses both, or neither, naming the two variables', () => {
    const pools = [{ pool: 'ghes', host: 'ghe.example.com', secretArn: ARN('b') }];
    for (const s of [
      { secretArn: ARN('a'), pools },
      { secretArn: undefined, pools: undefined },
    ]) {
      const err = (() => {
        try {
          return webhookPoolsOf(s);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/WEBHOOK_SECRET_ARN.*WEBHOOK_POOLS/);
    }
  });
});
