import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApproverRoleError, StsApproverIdentity, sessionNameFor } from './approver-identity';

const sts = mockClient(STSClient);
const ROLE = 'arn:aws:iam::123456789012:role/Fleetwarden-Approver';
const ALICE =
  'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com';

beforeEach(() => sts.reset());

describe('sessionNameFor', () => {
  it('is the last path segment of the identity, in the characters STS accepts, 2-64 long', () => {
    expect(sessionNameFor(ALICE)).toBe('alice@example.com');
    expect(sessionNameFor('arn:aws:iam::123456789012:user/ops/bob')).toBe('bob');
    expect(sessionNameFor('arn:aws:iam::123456789012:user/ops/Zoë Smith#1')).toBe('Zo--Smith-1');
    expect(sessionNameFor('arn:aws:iam::123456789012:root')).toBe('root');
    expect(sessionNameFor('arn:aws:iam::123456789012:user/x')).toBe('x-');
    expect(sessionNameFor(`arn:aws:iam::123456789012:user/${'a'.repeat(80)}`)).toHaveLength(64);
  });
});

describe('StsApproverIdentity', () => {
  it('reads the caller, assumes the Approver role named after it, and reads the session identity', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolvesOnce({
        Arn: ALICE,
        Account: '123456789012',
        UserId: 'AROAEXAMPLE:alice@example.com',
        $metadata: { requestId: 'req-who' },
      })
      .resolvesOnce({
        Arn: 'arn:aws:sts::123456789012:assumed-role/Fleetwarden-Approver/alice@example.com',
        Account: '123456789012',
        UserId: 'AROAAPPROVER:alice@example.com',
        $metadata: { requestId: 'req-session' },
      });
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date('2026-11-24T13:00:00Z'),
      },
      $metadata: { requestId: 'req-assume' },
    });
    const port = new StsApproverIdentity({
      client: new STSClient({ region: 'eu-west-1' }),
      sessionClient: () => new STSClient({ region: 'eu-west-1' }),
    });
    const me = await port.whoAmI();
    expect(me).toEqual({
      arn: ALICE,
      account: '123456789012',
      userId: 'AROAEXAMPLE:alice@example.com',
      requestId: 'req-who',
    });
    const session = await port.assume(ROLE, me);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 'alice@example.com',
      SourceIdentity: 'alice@example.com',
    });
    expect(session.identity).toEqual({
      arn: ALICE,
      sessionArn: 'arn:aws:sts::123456789012:assumed-role/Fleetwarden-Approver/alice@example.com',
      account: '123456789012',
      userId: 'AROAEXAMPLE:alice@example.com',
    });
    expect(session.credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', sessionToken: 'token' });
    expect(session.requestIds).toEqual(['req-who', 'req-assume', 'req-session']);
  });

  it('refuses a session that is not of the Approver role, and says why AssumeRole failed', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Arn: 'arn:aws:sts::123456789012:assumed-role/SomethingElse/alice',
      Account: '123456789012',
      $metadata: { requestId: 'req-2' },
    });
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'A', SecretAccessKey: 'S', SessionToken: 'T', Expiration: new Date() },
      $metadata: { requestId: 'req-assume' },
    });
    const port = new StsApproverIdentity({
      client: new STSClient({ region: 'eu-west-1' }),
      sessionClient: () => new STSClient({ region: 'eu-west-1' }),
    });
    const me = { arn: ALICE, account: '123456789012', requestId: 'req-who' };
    await expect(port.assume(ROLE, me)).rejects.toThrow(
      /session arn:aws:sts::123456789012:assumed-role\/SomethingElse\/alice is not a session of arn:aws:iam::123456789012:role\/Fleetwarden-Approver/,
    );
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), {
        name: 'AccessDenied',
      }),
    );
    const denied = await port.assume(ROLE, me).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApproverRoleError);
    expect((denied as Error).message).toContain(`cannot assume the Approver role ${ROLE} as ${ALICE}`);
    expect(((denied as Error).cause as Error).name).toBe('AccessDenied');
  });
});
