import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { InvalidPropsError, refuseInvalidProps } from './props-validation';

describe('refuseInvalidProps', () => {
  const stack = new Stack(new App(), 'Fleet');
  it('lists every problem under the construct path, as InvalidPropsError', () => {
    let err: unknown;
    try {
      refuseInvalidProps('DnsSync', stack, 'Dns', [
        'ttl must be 1-86400, got 0',
        'zoneName must be a DNS name, got "x_y"',
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPropsError);
    expect((err as Error).message).toBe(
      'DnsSync Fleet/Dns: ttl must be 1-86400, got 0; zoneName must be a DNS name, got "x_y"',
    );
  });

  it('does nothing when there is no problem', () => {
    expect(() => refuseInvalidProps('DnsSync', stack, 'Dns', [])).not.toThrow();
  });
});
