import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';

describe('orphaned-volumes Lambda entry', () => {
  it('reads its settings from the environment and names a bad one before touching AWS', async () => {
    const { handler } = await import('./index');
    vi.stubEnv('AUDIT_TABLE_NAME', 'audit');
    vi.stubEnv('GRACE_PERIOD_SECONDS', '60');
    try {
      await expect(handler({}, {} as Context)).rejects.toThrow(/GRACE_PERIOD_SECONDS="60"/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
