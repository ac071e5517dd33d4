import { describe, expect, it } from 'vitest';
import { ConfigError, FleetwardenError } from './errors';
import { JmesPathNotBundledError, PowertoolsFunctions, search } from './no-jmespath';

describe('no-jmespath (what the function bundles get for @aws-lambda-powertools/jmespath)', () => {
  it('search refuses with a ConfigError that says how to pass the key instead', () => {
    const thrown = (() => {
      try {
        search('key');
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(JmesPathNotBundledError);
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toBeInstanceOf(FleetwardenError);
    expect((thrown as Error).message).toMatch(/JMESPath is not bundled .*"key".*dataIndexArgument/);
  });

  it('PowertoolsFunctions can be made (IdempotencyConfig makes one by default)', () => {
    expect(new PowertoolsFunctions()).toBeInstanceOf(PowertoolsFunctions);
  });
});
