import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it, vi } from 'vitest';

describe('default SDK clients', () => {
  it('are memoised, carry the call recorder, and are handed to the Powertools tracer once', async () => {
    // a fresh copy of the module: the unit stage shares modules between files (isolate: false), and
    // an earlier file may already have made the process-wide clients, as a warm Lambda would have
    vi.resetModules();
    const { tracer } = await import('../observability/tracer');
    const { defaultEc2Client, defaultRoute53Client } = await import('./clients');
    const capture = vi.spyOn(tracer, 'captureAWSv3Client');
    const route53 = defaultRoute53Client();
    expect(route53).toBeInstanceOf(Route53Client);
    expect(defaultRoute53Client()).toBe(route53);
    expect(route53.middlewareStack.identify().some((m) => m.startsWith('fleetwardenCallRecorder'))).toBe(
      true,
    );
    const ec2 = defaultEc2Client();
    expect(ec2).toBeInstanceOf(EC2Client);
    expect(capture.mock.calls.map(([client]) => client)).toEqual([route53, ec2]);
    capture.mockRestore();
  });
});
