import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { dnsReconcile } from '../../functions/dns-reconcile/definition';
import { dnsSync } from '../../functions/dns-sync/definition';
import { type IamGrant, patternOf } from '../../shared/kernel/definition';
import { readSettings } from '../../shared/kernel/settings';
import type { AuditAccess } from './audit-access';
import { DnsSync, type DnsSyncProps } from './dns-sync';

const granted: IGrantable[] = [];
const audit: AuditAccess = { tableName: 'fleetwarden-audit', grantWrite: (g) => granted.push(g) };

function setup(
  props: Partial<DnsSyncProps> = {},
  stackProps = { env: { account: '123456789012', region: 'eu-west-1' } },
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleetwarden', stackProps);
  const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
  const dns = new DnsSync(stack, 'Dns', {
    alarmTopic,
    audit,
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    zoneName: 'internal.example.com',
    ...props,
  });
  return { app, stack, dns, template: () => Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}
function allStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement,
  );
}
const has = (s: Statement, action: string) => [s.Action].flat().includes(action);
/** A declared ARN as an environment-bound stack writes it: its own region and account (withStackPseudo). */
const bound = (arn: string, stack: Stack) =>
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, as declared
  arn.replace('${AWS::Region}', stack.region).replace('${AWS::AccountId}', stack.account);

describe('DnsSync construct', () => {
  it("builds dns-sync's rules from its definition, the name-tag rule on the configured tag", () => {
    const t = setup({ nameTag: 'team:dns' }).template();
    const settings = readSettings(dnsSync.settings, {
      HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
      ZONE_NAME: 'internal.example.com',
      AUDIT_TABLE_NAME: 'a',
      QUEUE_URL: 'q',
      NAME_TAG: 'team:dns',
    });
    const patterns = Object.values(t.findResources('AWS::Events::Rule')).map(
      (r) => r.Properties.EventPattern,
    );
    for (const trigger of dnsSync.triggers) {
      if (trigger.kind !== 'events') continue;
      const p = patternOf(trigger.pattern, settings);
      expect(patterns).toContainEqual({
        source: p.source,
        'detail-type': p.detailType,
        ...(p.detail ? { detail: p.detail } : {}),
      });
    }
    expect(JSON.stringify(patterns)).toContain('"changed-tag-keys":["team:dns"]');
  });

  it('accepts a zone id that is only known at deploy time (a token from another construct)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Tokens');
    const zoneId = new CfnParameter(stack, 'ZoneId').valueAsString;
    const dns = new DnsSync(stack, 'Dns', {
      alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
      audit,
      hostedZoneId: zoneId,
      zoneName: 'internal.example.com',
    });
    expect(dns.syncFunction).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOSTED_ZONE_ID: { Ref: 'ZoneId' } }) },
    });
  });

  it('routes EC2 state changes for the handled states to an encrypted queue', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
      },
      Targets: [Match.objectLike({ Arn: Match.anyValue(), DeadLetterConfig: Match.anyValue() })],
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
    const denyInsecure = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter(
        (s: Statement & { Condition?: { Bool?: Record<string, string> } }) =>
          s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
    expect(denyInsecure.length).toBeGreaterThanOrEqual(2); // queue and its DLQ
  });

  it('routes changes of the name tag on EC2 instances to the same queue (tags that arrive after launch)', () => {
    const { dns, template } = setup({ nameTag: 'dns' });
    const t = template();
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.tag'],
        'detail-type': ['Tag Change on Resource'],
        detail: { service: ['ec2'], 'resource-type': ['instance'], 'changed-tag-keys': ['dns'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DnsQueue'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    expect(dns.tagRule).toBeDefined();
  });

  it('alarms on the queue dead-letter depth', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      AlarmDescription: Match.stringLikeRegexp('dns-sync queue'),
      AlarmActions: [Match.anyValue()],
    });
  });

  it('feeds dns-sync in batches with partial batch failure and bounded concurrency', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 200,
      MaximumBatchingWindowInSeconds: 60,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('configures both functions through the environment', () => {
    const t = setup({
      ttl: 120,
      nameTag: 'dns',
      ownerId: 'prod',
      dryRun: true,
      publishPublicIp: true,
    }).template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AUDIT_TABLE_NAME: 'fleetwarden-audit',
          HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
          ZONE_NAME: 'internal.example.com',
          NAME_TAG: 'dns',
          RECORD_TTL: '120',
          OWNER_ID: 'prod',
          DRY_RUN: 'true',
          PUBLISH_PUBLIC_IP: 'true',
          TOMBSTONE_HOURS: '24',
        }),
      },
    });
  });

  it('takes an owner id known only at deploy time (account and region of an environment-agnostic stack) or with dots', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Agnostic');
    new DnsSync(stack, 'Dns', {
      alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
      audit,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'internal.example.com',
      ownerId: `fleetwarden-${stack.account}-${stack.region}`,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OWNER_ID: {
            'Fn::Join': ['', ['fleetwarden-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
          },
        }),
      },
    });
    expect(() => setup({ ownerId: 'fleetwarden-prod.eu_1-eu-west-1' })).not.toThrow();
  });

  it("gives dns-sync its queue's real URL (QUEUE_URL) for the lag retry; dns-reconcile has no queue", () => {
    const { dns, stack, template } = setup();
    const t = template();
    const env = (fn: typeof dns.syncFunction) =>
      t.findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.fn.node.defaultChild as never)]
        ?.Properties.Environment.Variables;
    expect(env(dns.syncFunction)?.QUEUE_URL).toEqual({
      Ref: stack.getLogicalId(dns.queue.node.defaultChild as never),
    });
    expect(env(dns.reconcileFunction)?.QUEUE_URL).toBeUndefined();
  });

  it('passes who opts in to DNS (fleet tag, Auto Scaling groups) to both functions', () => {
    const t = setup({
      fleetTag: { key: 'team:fleet', value: 'ci' },
      autoScalingGroupNames: ['runners-a', 'runners-b'],
    }).template();
    const vars = Object.values(t.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Environment.Variables,
    );
    expect(vars).toHaveLength(2);
    for (const v of vars) {
      expect(v).toMatchObject({
        FLEET_TAG_KEY: 'team:fleet',
        FLEET_TAG_VALUE: 'ci',
        AUTO_SCALING_GROUP_NAMES: 'runners-a,runners-b',
      });
    }
    const bare = Object.values(setup().template().findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Environment.Variables,
    );
    for (const v of bare) {
      expect(v.FLEET_TAG_KEY).toBeUndefined();
      expect(v.AUTO_SCALING_GROUP_NAMES).toBeUndefined();
    }
  });

  it('runs dns-reconcile on a schedule', () => {
    const t = setup({ reconcileSchedule: Duration.minutes(30) }).template();
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
  });

  it('tells dns-reconcile its schedule (SCHEDULE_SECONDS): how recent a change makes it read the zone', () => {
    const reconcileEnv = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment.Variables)
        .find((v) => v.TOMBSTONE_HOURS !== undefined);
    expect(
      reconcileEnv(setup({ reconcileSchedule: Duration.minutes(30) }).template())?.SCHEDULE_SECONDS,
    ).toBe('1800');
    expect(reconcileEnv(setup().template())?.SCHEDULE_SECONDS).toBe('900');
  });

  it('allows ChangeResourceRecordSets only on the zone, only for names in it, types A/TXT, actions CREATE/DELETE', () => {
    const t = setup().template();
    const change = allStatements(t).filter((s) => has(s, 'route53:ChangeResourceRecordSets'));
    expect(change.length).toBe(2); // one per function
    for (const s of change) {
      expect(s.Resource).toEqual({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789ABCDEFGHIJ']],
      });
      expect(s.Condition).toEqual({
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.internal.example.com'],
        },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
        },
      });
    }
    expect(allStatements(t).some((s) => has(s, 'route53:ListResourceRecordSets'))).toBe(true);
    const describe = allStatements(t).filter((s) => has(s, 'ec2:DescribeInstances'));
    expect(describe.every((s) => s.Resource === '*' && [s.Action].flat().length === 1)).toBe(true);
    expect(
      allStatements(t).some((s) => s.Resource === '*' && has(s, 'route53:ChangeResourceRecordSets')),
    ).toBe(false);
    expect(granted.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['dns-sync', dnsSync, 'syncFunction'],
    ['dns-reconcile', dnsReconcile, 'reconcileFunction'],
  ] as const)(
    '%s: the construct grants exactly the Route 53, EC2, DynamoDB and CloudTrail statements its definition declares',
    (_name, def, fn) => {
      const { stack, dns, template } = setup({
        reverseZoneId: 'Z0REVERSE',
        reverseZoneName: '10.in-addr.arpa',
      });
      const t = template();
      // CloudFormation values as the declarations write them: "${AWS::Partition}" for a Ref, joins flattened
      const flat = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(flat);
        if (v && typeof v === 'object' && 'Ref' in v) return `\${${String((v as { Ref: string }).Ref)}}`;
        // a role's ARN (DNS_WRITER_ROLE_ARNS), as an ARN the setting accepts
        if (v && typeof v === 'object' && 'Fn::GetAtt' in v)
          return `arn:aws:iam::123456789012:role/${(v as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]}`;
        if (v && typeof v === 'object' && 'Fn::Join' in v) {
          const [sep, parts] = (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
          return parts.map(flat).join(sep);
        }
        return v;
      };
      const roleOf = stack.resolve(dns[fn].fn.role?.roleName) as { Ref: string };
      const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(roleOf.Ref),
      );
      const granted = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => [s.Action].flat().some((a) => /^(route53|ec2|dynamodb|cloudtrail):/.test(a)))
        .map((s) => ({
          actions: [s.Action].flat().sort(),
          resources: [flat(s.Resource)].flat().sort(),
          ...(s.Condition ? { conditions: s.Condition } : {}),
        }));
      const fnEnv = t.findResources('AWS::Lambda::Function');
      const vars = Object.values(fnEnv).find((r) => JSON.stringify(r.Properties.Role).includes(roleOf.Ref))
        ?.Properties.Environment.Variables as Record<string, unknown>;
      const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(flat(v))]));
      const settings = readSettings(def.settings, env);
      const kinds = Object.values(def.actions as Record<string, { iam: (s: never) => readonly IamGrant[] }>);
      const declared = [
        ...kinds.flatMap((k) => k.iam(settings as never)),
        ...def.reads(settings as never),
      ].map((g) => ({
        actions: [...g.actions].sort(),
        resources: [...g.resources].map((r) => bound(r, stack)).sort(),
        ...(g.conditions ? { conditions: g.conditions } : {}),
      }));
      const key = (g: object) => JSON.stringify(g);
      expect(granted.map(key).sort()).toEqual(declared.map(key).sort());
    },
  );

  it("tells dns-reconcile the fleet's DNS writers (both roles' ARNs): their zone changes in CloudTrail are the fleet's own", () => {
    const { stack, dns, template } = setup();
    const roleArn = (fn: 'syncFunction' | 'reconcileFunction') => stack.resolve(dns[fn].fn.role?.roleArn);
    const reconcile = Object.values(template().findResources('AWS::Lambda::Function')).find((r) =>
      JSON.stringify(r.Properties.Role).includes(JSON.stringify(roleArn('reconcileFunction'))),
    );
    expect(reconcile?.Properties.Environment.Variables.DNS_WRITER_ROLE_ARNS).toEqual({
      'Fn::Join': ['', [roleArn('syncFunction'), ',', roleArn('reconcileFunction')]],
    });
  });

  it("lets dns-reconcile Query only the audit table's byInstance index (dns-sync's records: its evidence); dns-sync reads none", () => {
    const { stack, dns, template } = setup();
    const t = template();
    const queriesOf = (fn: 'syncFunction' | 'reconcileFunction') => {
      const role = (stack.resolve(dns[fn].fn.role?.roleName) as { Ref: string }).Ref;
      return Object.values(t.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    };
    expect(queriesOf('syncFunction')).toEqual([]);
    const q = queriesOf('reconcileFunction');
    expect(q.map((s) => s.Action)).toEqual(['dynamodb:Query']);
    expect(JSON.stringify(q[0]?.Resource)).toMatch(/:table\/fleetwarden-audit\/index\/byInstance"/);
  });

  it('adds a PTR statement scoped to the reverse zone when one is configured', () => {
    const t = setup({ reverseZoneId: 'Z0REVERSE', reverseZoneName: '10.in-addr.arpa' }).template();
    const ptr = allStatements(t).filter(
      (s) => has(s, 'route53:ChangeResourceRecordSets') && JSON.stringify(s.Resource).includes('Z0REVERSE'),
    );
    expect(ptr[0]?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.10.in-addr.arpa'],
      },
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsRecordTypes': ['PTR', 'TXT'],
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
      },
    });
  });

  it.each([
    [{ hostedZoneId: 'not-a-zone' }, 'hostedZoneId must look like a Route 53 zone id, got "not-a-zone"'],
    [{ zoneName: 'bad_zone..com' }, 'zoneName must be a DNS name, got "bad_zone..com"'],
    [{ ttl: 0 }, 'ttl must be 1..86400 seconds (RECORD_TTL: Too small: expected number to be >=1), got 0'],
    [
      { zones: [{ id: 'Z0OTHER', name: 'other.example.com' }] },
      'zones and hostedZoneId, zoneName are both set: use one or the other',
    ],
    [
      {
        hostedZoneId: undefined,
        zoneName: undefined,
        zones: [
          { id: 'Z0A', name: 'a.com' },
          { id: 'Z0B', name: 'a.com' },
        ],
      },
      'zones: zones Z0A and Z0B are both named a.com: a split horizon needs view "public" on one and "private" on the other',
    ],
    [{ reverseZoneId: 'Z0REVERSE' }, 'reverseZoneId and reverseZoneName go together'],
    [
      { reverseZoneId: 'Z0REVERSE', reverseZoneName: 'example.com' },
      'reverseZoneName must end in .in-addr.arpa, got "example.com"',
    ],
    [{ ownerId: 'a,b' }, 'ownerId must be 1-100 letters, digits, ".", "_" or "-" (OWNER_ID), got "a,b"'],
    [{ nameTag: '' }, 'nameTag must be 1-128 characters (NAME_TAG), got ""'],
    [{ reconcileSchedule: Duration.seconds(30) }, 'reconcileSchedule must be 1 minute to 24 hours, got 30 s'],
    [{ maxConcurrency: 1 }, 'maxConcurrency must be an integer from 2 to 1000, got 1'],
    [
      { autoScalingGroupNames: ['a,b'] },
      'autoScalingGroupNames is invalid: must not contain a comma (AUTO_SCALING_GROUP_NAMES), got ["a,b"]',
    ],
    [
      { maxReceiveCount: 4 },
      'maxReceiveCount must be an integer from 5 to 100 (a message for an instance DescribeInstances never shows must outlive the 900 s absence window, not reach the DLQ), got 4',
    ],
  ])('refuses %o', (props, message) => {
    expect(() => setup(props as Partial<DnsSyncProps>)).toThrow(message);
  });

  it.each([
    ['an environment-bound stack', { env: { account: '123456789012', region: 'eu-west-1' } }],
    ['an environment-agnostic stack', {}],
  ])('passes cdk-nag AwsSolutions and the fleet checks in %s', async (_what, stackProps) => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const { app } = setup(
      { reverseZoneId: 'Z0REVERSE', reverseZoneName: '10.in-addr.arpa' },
      stackProps as never,
    );
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
  });
});
