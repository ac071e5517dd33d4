import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runnerSweep } from '../functions/runner-sweep/definition';
import { webhookIngress } from '../functions/webhook-ingress/definition';
import { DNS_SETTINGS } from '../shared/dns/settings';
import type { Setting } from '../shared/kernel/settings';
import { FleetConfigSchema, parseFleetConfig } from './config';

const valid = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'fleet.example.internal',
  autoScalingGroupNames: ['ci-runners'],
  github: { owner: 'acme' },
};

describe('fleet configuration (cdk.json context "fleetwarden")', () => {
  it('fills safe defaults', () => {
    expect(parseFleetConfig(valid)).toEqual({
      ...valid,
      dnsNameTag: 'fleetwarden:dns-name',
      recordTtl: 60,
      publishPublicIp: false,
      fleetTag: { key: 'fleetwarden:fleet', value: 'runners' },
      dryRun: true,
      maxRemovalShare: 0.2,
      maxRemovalsPerRun: 100,
      removalBudgetWindow: 3600,
      maxJobAge: 3600,
      allowTerminate: false,
      auditRetentionDays: 400,
      logRetentionDays: 90,
      remediations: {},
    });
  });

  it('normalises the zone name', () => {
    expect(parseFleetConfig({ ...valid, zoneName: 'Fleet.Example.Internal.' }).zoneName).toBe(
      'fleet.example.internal',
    );
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing context', {}, /fleetwarden\.hostedZoneId: .*got <unset>/],
    ['a malformed zone id', { hostedZoneId: 'zone-1' }, /fleetwarden\.hostedZoneId: .*got "zone-1"/],
    ['a bad zone name', { zoneName: 'bad_zone..com' }, /fleetwarden\.zoneName: .*got "bad_zone\.\.com"/],
    ['a TTL of 0', { recordTtl: 0 }, /fleetwarden\.recordTtl: .*got 0/],
    [
      'a fleet tag value with an EC2 filter wildcard',
      { fleetTag: { key: 'fleetwarden:fleet', value: 'ci-*' } },
      /fleetwarden\.fleetTag\.value: .*no \* or \?.*got "ci-\*"/,
    ],
    ['a removal share above 1', { maxRemovalShare: 1.5 }, /fleetwarden\.maxRemovalShare: .*got 1\.5/],
    ['a removal cap of 0', { maxRemovalsPerRun: 0 }, /fleetwarden\.maxRemovalsPerRun: .*got 0/],
    [
      'an ASG name with a slash',
      { autoScalingGroupNames: ['a/b'] },
      /fleetwarden\.autoScalingGroupNames\.0: .*got "a\/b"/,
    ],
    ['a bad alarm email', { alarmEmail: 'oncall' }, /fleetwarden\.alarmEmail: .*got "oncall"/],
    [
      'a log retention CloudWatch does not offer',
      { logRetentionDays: 10 },
      /fleetwarden\.logRetentionDays: .*got 10/,
    ],
    [
      'a reverse zone id without its name',
      { reverseZoneId: 'Z0REVERSE' },
      /fleetwarden\.reverseZoneName: reverseZoneId and reverseZoneName go together.*got <unset>/,
    ],
    [
      'a reverse zone name outside in-addr.arpa',
      { reverseZoneId: 'Z0REVERSE', reverseZoneName: 'example.com' },
      /fleetwarden\.reverseZoneName: must end in \.in-addr\.arpa, got "example\.com"/,
    ],
    ['a string where a boolean belongs', { dryRun: 'false' }, /fleetwarden\.dryRun: .*got "false"/],
  ];
  it.each(bad)('refuses %s, showing the value', (_name, patch, message) => {
    const input = _name === 'a missing context' ? {} : { ...valid, ...patch };
    expect(() => parseFleetConfig(input)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => parseFleetConfig({ ...valid, recordTtl: -1, dryRun: 'no' })).toThrow(
      /recordTtl.*\n.*dryRun|dryRun.*\n.*recordTtl/s,
    );
  });
});

describe('fleet configuration as a new user passes it', () => {
  it("accepts the JSON string `cdk deploy -c fleetwarden='{...}'` passes", () => {
    expect(parseFleetConfig(JSON.stringify(valid))).toEqual(parseFleetConfig(valid));
  });

  it('says clearly when the string is not valid JSON', () => {
    expect(() => parseFleetConfig("{hostedZoneId:'Z0123'}")).toThrow(
      /context "fleetwarden" is a string but not valid JSON \(.+\): \{hostedZoneId:'Z0123'\}.*README\.md#configuration/s,
    );
  });

  it('refuses a JSON string that is not an object', () => {
    expect(() => parseFleetConfig('[1]')).toThrow(/fleetwarden: .*object.*got \[1\]/);
  });

  it.each([
    [{ dryrun: false }, /fleetwarden\.dryrun: unknown key \(did you mean "dryRun"\?\)/],
    [
      { maxRemovalshare: 0.5 },
      /fleetwarden\.maxRemovalshare: unknown key \(did you mean "maxRemovalShare"\?\)/,
    ],
    [
      { github: { owner: 'acme', repo: 'x' } },
      /fleetwarden\.github\.repo: unknown key \(did you mean "repository"\?\)/,
    ],
    [
      { fleetTag: { key: 'k', vaule: 'v' } },
      /fleetwarden\.fleetTag\.vaule: unknown key \(did you mean "value"\?\)/,
    ],
  ])('refuses the unknown key in %j, naming the nearest known key', (patch, message) => {
    expect(() => parseFleetConfig({ ...valid, ...patch })).toThrow(message);
  });

  it('refuses an unknown key with nothing near it without a guess', () => {
    expect(() => parseFleetConfig({ ...valid, colour: 'blue' })).toThrow(
      /fleetwarden\.colour: unknown key, got "blue"$/m,
    );
  });

  it('refuses github without runner ASGs: runner remediation would silently not be deployed', () => {
    expect(() => parseFleetConfig({ ...valid, autoScalingGroupNames: [] })).toThrow(
      /fleetwarden\.autoScalingGroupNames: github is set but no runner Auto Scaling group is named: runner remediation \(drain, sweep, job watch\) would not be deployed/,
    );
  });

  it('deploys the webhook ingress alone only when asked to (github.webhookOnly)', () => {
    const config = parseFleetConfig({
      ...valid,
      autoScalingGroupNames: [],
      github: { owner: 'acme', webhookOnly: true },
    });
    expect(config.github).toEqual({ owner: 'acme', webhookOnly: true });
    expect(() => parseFleetConfig({ ...valid, github: { owner: 'acme', webhookOnly: true } })).toThrow(
      /fleetwarden\.github\.webhookOnly: .*autoScalingGroupNames/,
    );
  });

  it('takes a fleet id for the runner fleet identity label', () => {
    expect(parseFleetConfig({ ...valid, fleetId: 'prod-eu' }).fleetId).toBe('prod-eu');
    expect(parseFleetConfig(valid).fleetId).toBeUndefined();
    expect(() => parseFleetConfig({ ...valid, fleetId: 'a b' })).toThrow(/fleetwarden\.fleetId: .*got "a b"/);
  });

  it('takes an owner id for the DNS ownership markers, in the characters a marker can carry', () => {
    expect(parseFleetConfig({ ...valid, ownerId: 'fleetwarden' }).ownerId).toBe('fleetwarden');
    expect(parseFleetConfig({ ...valid, ownerId: 'prod.eu_1-eu-west-1' }).ownerId).toBe(
      'prod.eu_1-eu-west-1',
    );
    // the default depends on the stack (fleet id and region): FleetStack fills it in
    expect(parseFleetConfig(valid).ownerId).toBeUndefined();
    // "," separates the marker's fields, '"' ends the TXT string, spaces and "=" confuse a reader
    for (const bad of ['a,b', 'a"b', 'a b', 'a=b', '', 'x'.repeat(101)])
      expect(() => parseFleetConfig({ ...valid, ownerId: bad })).toThrow(/fleetwarden\.ownerId: .*got "/);
  });

  it('takes the webhook replay bound maxJobAge in seconds, within the dedupe window', () => {
    expect(parseFleetConfig({ ...valid, maxJobAge: 600 }).maxJobAge).toBe(600);
    expect(() => parseFleetConfig({ ...valid, maxJobAge: 30 })).toThrow(/fleetwarden\.maxJobAge: .*got 30/);
    // 3 days: the webhook's dedupe window (idempotencyTtl), which the configuration does not change
    expect(parseFleetConfig({ ...valid, maxJobAge: 259_200 }).maxJobAge).toBe(259_200);
    expect(() => parseFleetConfig({ ...valid, maxJobAge: 259_201 })).toThrow(
      /fleetwarden\.maxJobAge: .*got 259201/,
    );
  });
});

describe('config keys that are settings: declared once, in the definition', () => {
  const keys: [string, Pick<Setting<unknown>, 'doc' | 'default'>][] = [
    ['dnsNameTag', DNS_SETTINGS.nameTag],
    ['recordTtl', DNS_SETTINGS.ttl],
    ['publishPublicIp', DNS_SETTINGS.publishPublicIp],
    ['maxRemovalShare', runnerSweep.settings.maxRemovalShare],
    ['maxRemovalsPerRun', runnerSweep.settings.maxRemovalsPerRun],
    ['allowTerminate', runnerSweep.settings.allowTerminate],
    ['removalBudgetWindow', runnerSweep.settings.budgetWindow],
    ['maxJobAge', webhookIngress.settings.maxJobAgeSeconds],
  ];
  it.each(keys)('%s is built from the setting: its doc and default', (key, s) => {
    const field = FleetConfigSchema.shape[key as keyof typeof FleetConfigSchema.shape];
    expect(field.description).toBe(s.doc);
    expect(parseFleetConfig(valid)[key as keyof typeof valid]).toEqual(s.default);
  });
  it("ownerId checks the setting's characters (its default is FleetStack's fleetwarden-<fleetId>-<region>)", () => {
    expect(FleetConfigSchema.shape.ownerId.description).toBe(DNS_SETTINGS.ownerId.doc);
    expect(parseFleetConfig(valid).ownerId).toBeUndefined();
  });
});

describe('fleet configuration: approvals (issue 12)', () => {
  const approvers = ['arn:aws:iam::123456789012:role/OnCall'];

  it('is off unless given (no approval infrastructure, irreversible actions reported only)', () => {
    expect(parseFleetConfig(valid).approvals).toBeUndefined();
  });

  it('fills the policy defaults the approval settings declare', () => {
    expect(parseFleetConfig({ ...valid, approvals: { approvers } }).approvals).toEqual({
      approvers,
      required: 1,
      twoPerson: true,
      expiry: 86_400,
      notify: { emails: [] },
    });
  });

  it('takes the whole block of the design', () => {
    const approvals = {
      approvers: [...approvers, 'arn:aws:iam::210987654321:user/alice'],
      required: 2,
      twoPerson: false,
      expiry: 3600,
      notify: { emails: ['oncall@example.com'], githubIssues: { repository: 'ops' } },
    };
    expect(parseFleetConfig({ ...valid, approvals }).approvals).toEqual(approvals);
  });

  it('refuses approvers that are not IAM principal ARN patterns, showing each bad value', () => {
    const bad = () =>
      parseFleetConfig({
        ...valid,
        approvals: { approvers: ['arn:aws:iam::*:role/OnCall', 'OnCall', ...approvers] },
      });
    expect(bad).toThrow(
      /fleetwarden\.approvals\.approvers\.0: .*IAM principal ARN pattern.*got "arn:aws:iam::\*:role\/OnCall"/,
    );
    expect(bad).toThrow(/fleetwarden\.approvals\.approvers\.1: .*got "OnCall"/);
    expect(() => parseFleetConfig({ ...valid, approvals: { approvers: [] } })).toThrow(
      /fleetwarden\.approvals\.approvers: must name at least 1, got \[\]/,
    );
  });

  it('refuses required outside 1..5, an expiry outside 300..604800 s, a bad email or repository', () => {
    const msg = (() => {
      try {
        parseFleetConfig({
          ...valid,
          approvals: {
            approvers,
            required: 6,
            expiry: 60,
            notify: { emails: ['oncall'], githubIssues: { repository: 'acme/ops' } },
          },
        });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(msg).toMatch(/approvals\.required: .*got 6/);
    expect(msg).toMatch(/approvals\.expiry: .*got 60/);
    expect(msg).toMatch(/approvals\.notify\.emails\.0: .*got "oncall"/);
    expect(msg).toMatch(/approvals\.notify\.githubIssues\.repository: .*got "acme\/ops"/);
  });

  it('refuses more required approvals than the approvers can give (no wildcard to match more people)', () => {
    expect(() => parseFleetConfig({ ...valid, approvals: { approvers, required: 2 } })).toThrow(
      /approvals\.required: 2 distinct approvals can never be given by 1 approver/,
    );
    const wildcard = [
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*',
    ];
    expect(
      parseFleetConfig({ ...valid, approvals: { approvers: wildcard, required: 2 } }).approvals?.required,
    ).toBe(2);
  });

  it('refuses an unknown key in the block with the nearest one', () => {
    expect(() => parseFleetConfig({ ...valid, approvals: { approvers, approver: approvers } })).toThrow(
      /fleetwarden\.approvals\.approver: unknown key \(did you mean "approvers"\?\)/,
    );
  });
});

describe("README's Configuration table", () => {
  it('documents every key of the fleetwarden context', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
    );
    const documented = new Set([...section.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]));
    const keys = Object.keys(FleetConfigSchema.shape).filter((k) => k !== 'github');
    const nested = ['github.owner', 'github.repository', 'github.webhookOnly'];
    const approvals = [
      'approvers',
      'required',
      'twoPerson',
      'expiry',
      'notify.emails',
      'notify.githubIssues.repository',
    ];
    const missing = [...keys, ...nested, ...approvals.map((k) => `approvals.${k}`)].filter(
      (k) => !documented.has(k),
    );
    expect(missing).toEqual([]);
  });
});
