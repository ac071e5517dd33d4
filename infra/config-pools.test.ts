import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from './config';
import { poolsOf } from './config-pools';

const zone = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'fleet.example.internal' };
const linux = {
  name: 'linux',
  github: { owner: 'acme' },
  autoScalingGroupNames: ['linux-runners'],
  labels: ['linux'],
};
const gpu = {
  name: 'gpu',
  github: { owner: 'acme' },
  autoScalingGroupNames: ['gpu-runners'],
  labels: ['gpu'],
};

describe('runner pools (config key `pools`)', () => {
  it('normalises the shorthand (github + autoScalingGroupNames + fleetTag + sweep keys) to one pool "default"', () => {
    const config = parseFleetConfig({
      ...zone,
      github: { owner: 'acme', repository: 'ci' },
      autoScalingGroupNames: ['ci-runners'],
      fleetTag: { key: 'team', value: 'ci' },
      maxRemovalShare: 0.3,
      maxRemovalsPerRun: 7,
      allowTerminate: true,
    });
    expect(poolsOf(config)).toEqual([
      {
        name: 'default',
        shorthand: true,
        github: { owner: 'acme', repository: 'ci' },
        host: 'github.com',
        autoScalingGroupNames: ['ci-runners'],
        labels: [],
        fleetTag: { key: 'team', value: 'ci' },
        maxRemovalShare: 0.3,
        maxRemovalsPerRun: 7,
        allowTerminate: true,
      },
    ]);
  });

  it('has no pool without runner groups (webhook only, or no github at all)', () => {
    expect(poolsOf(parseFleetConfig(zone))).toEqual([]);
    expect(poolsOf(parseFleetConfig({ ...zone, github: { owner: 'acme', webhookOnly: true } }))).toEqual([]);
  });

  it('takes a list of pools, each with its own scope, groups, labels, fleet tag and breaker keys (safe defaults)', () => {
    const config = parseFleetConfig({
      ...zone,
      pools: [
        linux,
        {
          name: 'ghes',
          github: { enterprise: 'corp', apiUrl: 'https://GHE.example.com/api/v3' },
          autoScalingGroupNames: ['ghes-runners'],
          fleetTag: { key: 'fleetwarden:fleet', value: 'ghes' },
          maxRemovalShare: 0.5,
          webhookSecretName: 'ghes-webhook',
        },
      ],
    });
    expect(poolsOf(config)).toEqual([
      {
        name: 'linux',
        shorthand: false,
        github: { owner: 'acme' },
        host: 'github.com',
        autoScalingGroupNames: ['linux-runners'],
        labels: ['linux'],
        fleetTag: { key: 'fleetwarden:fleet', value: 'linux' },
        maxRemovalShare: 0.2,
        maxRemovalsPerRun: 100,
        allowTerminate: false,
      },
      {
        name: 'ghes',
        shorthand: false,
        github: { enterprise: 'corp', apiUrl: 'https://GHE.example.com/api/v3' },
        host: 'ghe.example.com',
        autoScalingGroupNames: ['ghes-runners'],
        labels: [],
        fleetTag: { key: 'fleetwarden:fleet', value: 'ghes' },
        maxRemovalShare: 0.5,
        maxRemovalsPerRun: 100,
        allowTerminate: false,
        webhookSecretName: 'ghes-webhook',
      },
    ]);
  });

  it('gives a pool named "default" the fleet tag of the shorthand (moving to `pools` keeps the fleet)', () => {
    const config = parseFleetConfig({ ...zone, pools: [{ ...linux, name: 'default' }] });
    expect(poolsOf(config)[0]?.fleetTag).toEqual({ key: 'fleetwarden:fleet', value: 'runners' });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'pools beside github',
      { pools: [linux], github: { owner: 'acme' } },
      /fleetwarden\.github: .*`pools` and the shorthand `github` .*got \{"owner":"acme"\}/,
    ],
    [
      'pools beside autoScalingGroupNames',
      { pools: [linux], autoScalingGroupNames: ['x'] },
      /fleetwarden\.autoScalingGroupNames: .*`pools` and the shorthand `autoScalingGroupNames` .*got \["x"\]/,
    ],
    [
      'pools beside fleetTag',
      { pools: [linux], fleetTag: { key: 'team', value: 'ci' } },
      /fleetwarden\.fleetTag: .*`pools` and the shorthand `fleetTag` .*got \{"key":"team","value":"ci"\}/,
    ],
    [
      'pools beside a sweep key',
      { pools: [linux], maxRemovalShare: 0.3 },
      /fleetwarden\.maxRemovalShare: .*`pools` and the shorthand `maxRemovalShare` .*got 0\.3/,
    ],
    [
      'two pool names whose outputs would share a name',
      {
        pools: [
          { ...linux, name: 'ci1' },
          { ...gpu, name: 'ci-1' },
        ],
      },
      /fleetwarden\.pools\.1\.name: .*pool "ci1".*Ci1.*got "ci-1"/,
    ],
    ['an empty list', { pools: [] }, /fleetwarden\.pools: .*at least 1.*got \[\]/],
    [
      'a bad pool name',
      { pools: [{ ...linux, name: 'Linux_1' }] },
      /fleetwarden\.pools\.0\.name: .*got "Linux_1"/,
    ],
    [
      'two pools of one name',
      { pools: [linux, { ...gpu, name: 'linux' }] },
      /fleetwarden\.pools\.1\.name: .*pool names must be unique.*got "linux"/,
    ],
    [
      'an ASG in two pools',
      { pools: [linux, { ...gpu, autoScalingGroupNames: ['gpu-runners', 'linux-runners'] }] },
      /fleetwarden\.pools\.1\.autoScalingGroupNames: .*"linux-runners" is already in pool "linux".*got \["gpu-runners","linux-runners"\]/,
    ],
    [
      'a fleet tag shared by two pools',
      {
        pools: [
          { ...linux, fleetTag: { key: 'team', value: 'ci' } },
          { ...gpu, fleetTag: { key: 'team', value: 'ci' } },
        ],
      },
      /fleetwarden\.pools\.1\.fleetTag: .*pool "linux" has this fleet tag too.*sweeps would fight.*got \{"key":"team","value":"ci"\}/,
    ],
    [
      'two pools of one organisation that labels do not tell apart',
      { pools: [linux, { ...gpu, labels: ['linux', 'gpu'] }] },
      /fleetwarden\.pools\.1\.labels: .*pool "linux".*labels.*got \["linux","gpu"\]/,
    ],
    [
      'two pools of one organisation without labels',
      { pools: [{ ...linux, labels: undefined }, gpu] },
      /fleetwarden\.pools\.0\.labels: .*pool "gpu".*got <unset>/,
    ],
    [
      'no scope',
      { pools: [{ ...linux, github: {} }] },
      /fleetwarden\.pools\.0\.github: .*exactly one of owner, owner \+ repository, or enterprise.*got \{\}/,
    ],
    [
      'an enterprise and an owner',
      { pools: [{ ...linux, github: { owner: 'acme', enterprise: 'corp' } }] },
      /fleetwarden\.pools\.0\.github: .*exactly one of.*got \{"owner":"acme","enterprise":"corp"\}/,
    ],
    [
      'a plain-http API URL',
      { pools: [{ ...linux, github: { owner: 'acme', apiUrl: 'http://ghe.example.com/api/v3' } }] },
      /fleetwarden\.pools\.0\.github\.apiUrl: .*got "http:\/\/ghe\.example\.com\/api\/v3"/,
    ],
    [
      'a label with a comma',
      { pools: [{ ...linux, labels: ['a,b'] }] },
      /fleetwarden\.pools\.0\.labels\.0: .*got "a,b"/,
    ],
    [
      'a pool with no group',
      { pools: [{ ...linux, autoScalingGroupNames: [] }] },
      /pools\.0\.autoScalingGroupNames: .*got \[\]/,
    ],
  ];
  it.each(bad)('rejects %s, naming the key and showing the value', (_what, patch, message) => {
    expect(() => parseFleetConfig({ ...zone, ...patch })).toThrow(message);
  });

  it('lets pools of different organisations (or hosts) go without labels', () => {
    const other = { ...gpu, github: { owner: 'other' }, labels: undefined };
    const ghes = {
      ...gpu,
      name: 'ghes',
      github: { owner: 'acme', apiUrl: 'https://ghe.example.com/api/v3' },
    };
    expect(() =>
      parseFleetConfig({ ...zone, pools: [{ ...linux, labels: undefined }, other] }),
    ).not.toThrow();
    expect(() =>
      parseFleetConfig({
        ...zone,
        pools: [
          { ...linux, labels: undefined },
          { ...ghes, labels: undefined, autoScalingGroupNames: ['g'] },
        ],
      }),
    ).not.toThrow();
  });
});
