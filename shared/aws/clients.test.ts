import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * A fresh copy of the modules: the unit stage shares modules between files (isolate: false), and an
 * earlier file may already have made the process-wide clients, as a warm Lambda would have.
 * `tracing` is what FleetFunction's `sdkCallTracing` defines at bundling (read from the environment
 * when not bundled, as here).
 */
async function freshClients(tracing: 'true' | undefined) {
  vi.resetModules();
  if (tracing) vi.stubEnv('FLEETWARDEN_SDK_CALL_TRACING', tracing);
  const { tracer } = await import('../observability/tracer');
  const capture = vi.spyOn(tracer, 'captureAWSv3Client');
  const clients = await import('./clients');
  return { capture, ...clients };
}

describe('default SDK clients', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('are memoised and carry the call recorder (the audit record of every call)', async () => {
    const { defaultRoute53Client } = await freshClients(undefined);
    const route53 = defaultRoute53Client();
    expect(route53).toBeInstanceOf(Route53Client);
    expect(defaultRoute53Client()).toBe(route53);
    expect(route53.middlewareStack.identify().some((m) => m.startsWith('fleetwardenCallRecorder'))).toBe(
      true,
    );
  });

  it('are not handed to the X-Ray tracer by default (Lambda ACTIVE tracing records the invocation)', async () => {
    const { capture, defaultRoute53Client, defaultEc2Client } = await freshClients(undefined);
    defaultRoute53Client();
    defaultEc2Client();
    expect(capture).not.toHaveBeenCalled();
  });

  it('with SDK-call tracing on (FleetFunction sdkCallTracing), each is handed to the tracer once', async () => {
    const { capture, defaultRoute53Client, defaultEc2Client } = await freshClients('true');
    const route53 = defaultRoute53Client();
    defaultRoute53Client();
    const ec2 = defaultEc2Client();
    expect(ec2).toBeInstanceOf(EC2Client);
    expect(capture.mock.calls.map(([client]) => client)).toEqual([route53, ec2]);
  });
});
