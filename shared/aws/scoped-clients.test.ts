import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultAutoScalingClient, defaultEc2Client } from './clients';
import type { Topology } from './scope';
import {
  autoScalingClientFor,
  type CredentialsFor,
  clientsFor,
  ec2ClientFor,
  resetScopedClients,
  trailClientFor,
} from './scoped-clients';

const { fromTemporaryCredentials } = vi.hoisted(() => ({
  fromTemporaryCredentials: vi.fn(() => async () => ({ accessKeyId: 'A', secretAccessKey: 'S' })),
}));
vi.mock('@aws-sdk/credential-providers', () => ({ fromTemporaryCredentials }));

const HUB = { account: '111111111111', region: 'eu-west-1' };
const SPOKE = { account: '222222222222', region: 'us-east-1' };
const topology: Topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };

const recorded = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().some((m) => m.startsWith('fleetwardenCallRecorder'));

function injected() {
  const asked: Parameters<CredentialsFor>[0][] = [];
  const credentials: CredentialsFor = (p) => {
    asked.push(p);
    return async () => ({ accessKeyId: `AK-${p.roleArn}`, secretAccessKey: 'secret' });
  };
  return { asked, options: { topology, functionName: 'Fleetwarden-DnsSync-abc', credentials } };
}

afterEach(() => {
  resetScopedClients();
  vi.clearAllMocks();
});

describe('clientsFor(scope)', () => {
  it("the hub's own scope gets today's default clients", () => {
    const { options } = injected();
    expect(ec2ClientFor(HUB, options)).toBe(defaultEc2Client());
    expect(autoScalingClientFor(HUB, options)).toBe(defaultAutoScalingClient());
    expect(clientsFor(HUB, options).ec2()).toBe(defaultEc2Client());
    // and so does every scope of a single-account deployment (no topology)
    expect(ec2ClientFor(SPOKE, { ...options, topology: undefined })).toBe(defaultEc2Client());
  });

  it("a spoke scope calls in the spoke's region with the spoke role's credentials, session = function name", async () => {
    const { asked, options } = injected();
    const ec2 = ec2ClientFor(SPOKE, options);
    expect(ec2).toBeInstanceOf(EC2Client);
    expect(ec2).not.toBe(defaultEc2Client());
    expect(await ec2.config.region()).toBe('us-east-1');
    const creds = await ec2.config.credentials();
    expect(creds.accessKeyId).toBe('AK-arn:aws:iam::222222222222:role/fleetwarden-spoke-prod');
    expect(asked).toEqual([
      {
        roleArn: 'arn:aws:iam::222222222222:role/fleetwarden-spoke-prod',
        roleSessionName: 'Fleetwarden-DnsSync-abc',
        region: 'us-east-1',
      },
    ]);
    expect(recorded(ec2)).toBe(true);
  });

  it('is memoised per scope and service: one client (and one role session) per spoke region', () => {
    const { asked, options } = injected();
    const other = { account: SPOKE.account, region: 'eu-central-1' };
    const withOther = { ...options, topology: { ...topology, spokes: [SPOKE, other] } };
    expect(ec2ClientFor(SPOKE, withOther)).toBe(ec2ClientFor({ ...SPOKE }, withOther));
    expect(ec2ClientFor(other, withOther)).not.toBe(ec2ClientFor(SPOKE, withOther));
    expect(autoScalingClientFor(SPOKE, withOther)).toBeInstanceOf(AutoScalingClient);
    expect(asked.map((a) => a.region)).toEqual(['us-east-1', 'eu-central-1', 'us-east-1']);
  });

  it('CloudTrail in a spoke reads through the read-only trail role, one attempt per call', async () => {
    const { asked, options } = injected();
    const trail = trailClientFor(SPOKE, options);
    expect(trail).toBeInstanceOf(CloudTrailClient);
    expect(await trail?.config.maxAttempts()).toBe(1);
    expect(asked[0]?.roleArn).toBe('arn:aws:iam::222222222222:role/fleetwarden-trail-prod');
  });

  it('refuses a scope that is neither the hub nor a configured spoke (no role is assumed)', () => {
    const { asked, options } = injected();
    expect(() => ec2ClientFor({ account: '333333333333', region: 'us-east-1' }, options)).toThrow(
      /333333333333\/us-east-1 is neither the hub nor a configured spoke/,
    );
    expect(asked).toEqual([]);
  });

  it('by default assumes the role with fromTemporaryCredentials (STS in the spoke region)', async () => {
    // a fresh copy: with modules shared per worker, another file may have loaded the real provider
    vi.resetModules();
    const fresh = await import('./scoped-clients');
    fresh.ec2ClientFor(SPOKE, { topology, functionName: 'fn' });
    expect(fromTemporaryCredentials).toHaveBeenCalledWith({
      params: { RoleArn: 'arn:aws:iam::222222222222:role/fleetwarden-spoke-prod', RoleSessionName: 'fn' },
      clientConfig: { region: 'us-east-1' },
    });
  });

  it('calls made with a spoke client are sent with its credentials (aws-sdk-client-mock)', async () => {
    const mock = mockClient(EC2Client);
    mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const { options } = injected();
    await ec2ClientFor(SPOKE, options).send(new DescribeInstancesCommand({}));
    expect(mock.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
    mock.restore();
  });
});
