import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FleetwardenDnsRole } from './dns-zone-role';

function synth(props: Partial<ConstructorParameters<typeof FleetwardenDnsRole>[2]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Network', { env: { account: '222222222222', region: 'us-east-1' } });
  const role = new FleetwardenDnsRole(stack, 'FleetDns', {
    fleetId: 'fleet1',
    hubAccount: '111111111111',
    zones: [
      { id: 'Z0CORP0000001', name: 'corp.example.com' },
      { id: 'Z0REVERSE0001', name: '10.in-addr.arpa' },
    ],
    ...props,
  });
  return { role, template: Template.fromStack(stack).toJSON() };
}

const resources = (t: Record<string, unknown>, type: string) =>
  Object.values(t.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter(
    (r) => r.Type === type,
  );

describe('FleetwardenDnsRole (deployed in the account that holds the zones)', () => {
  it('is named fleetwarden-dns-<fleetId> and trusted only by the hub account’s DNS function roles', () => {
    const { template } = synth();
    const [role] = resources(template, 'AWS::IAM::Role');
    expect(role?.Properties.RoleName).toBe('fleetwarden-dns-fleet1');
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: {
            AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] },
          },
          Condition: {
            ArnLike: {
              'aws:PrincipalArn': [
                'arn:*:iam::111111111111:role/*DnsSyncFunction*',
                'arn:*:iam::111111111111:role/*DnsReconcileFunction*',
              ],
            },
          },
        },
      ],
    });
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('can change only the listed zones, names inside them, their record types, CREATE/DELETE; and list them', () => {
    const { template } = synth();
    const statements = resources(template, 'AWS::IAM::Policy').flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement,
    );
    const zoneArn = (id: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${id}`]],
    });
    const change = (id: string, name: string, types: string[]) => ({
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: zoneArn(id),
      Condition: {
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${name}`] },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': types,
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
        },
      },
    });
    expect(statements).toEqual([
      change('Z0CORP0000001', 'corp.example.com', ['A', 'TXT']),
      change('Z0REVERSE0001', '10.in-addr.arpa', ['PTR', 'TXT']),
      {
        Effect: 'Allow',
        Action: 'route53:ListResourceRecordSets',
        Resource: [zoneArn('Z0CORP0000001'), zoneArn('Z0REVERSE0001')],
      },
    ]);
  });

  it('trusts the role ARNs it is given instead, and refuses a malformed zone or account', () => {
    const arn = 'arn:aws:iam::111111111111:role/hub-dns-sync';
    const { template } = synth({ trustedRoleArns: [arn] });
    const [role] = resources(template, 'AWS::IAM::Role');
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain(
      `"aws:PrincipalArn":["${arn}"]`,
    );
    expect(() => synth({ hubAccount: '1111' })).toThrow(
      /hubAccount must be a 12-digit account id, got "1111"/,
    );
    expect(() => synth({ zones: [{ id: 'zone', name: 'corp.example.com' }] })).toThrow(/"zone"/);
    expect(() => synth({ zones: [] })).toThrow(/at least one zone/);
  });
});
