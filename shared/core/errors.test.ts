import { describe, expect, it } from 'vitest';
import { ConfigError, FleetwardenError, hasCause, ThrottledError } from './errors';

describe('errors', () => {
  it('names subclasses after themselves and keeps the cause', () => {
    const root = new Error('socket hang up');
    const err = new ThrottledError('route53 throttled', 1200, { cause: root });
    expect(err.name).toBe('ThrottledError');
    expect(err).toBeInstanceOf(FleetwardenError);
    expect(err.cause).toBe(root);
    expect(err.retryAfterMs).toBe(1200);
  });

  it('finds a type anywhere in the cause chain', () => {
    const inner = new ConfigError('bad');
    const outer = new Error('wrapped', { cause: new Error('middle', { cause: inner }) });
    expect(hasCause(outer, ConfigError)).toBe(true);
    expect(hasCause(outer, ThrottledError)).toBe(false);
  });
});
