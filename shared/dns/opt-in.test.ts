import { describe, expect, it } from 'vitest';
import { optInReason, tagsForOptIn } from './opt-in';

const rule = {
  nameTag: 'fleetwarden:dns-name',
  fleetTag: { key: 'fleetwarden:fleet', value: 'runners' },
  autoScalingGroupNames: ['ci-asg'],
};

describe('optInReason', () => {
  it.each([
    [{ 'fleetwarden:dns-name': 'web' }, 'name tag fleetwarden:dns-name'],
    [{ 'fleetwarden:fleet': 'runners' }, 'fleet tag fleetwarden:fleet=runners'],
    [{ 'aws:autoscaling:groupName': 'ci-asg' }, 'Auto Scaling group ci-asg'],
  ])('opts %o in', (tags, reason) => {
    expect(optInReason(tags, rule)).toBe(reason);
  });

  it.each([
    [{}],
    [{ 'fleetwarden:dns-name': '  ' }],
    [{ 'fleetwarden:fleet': 'other' }],
    [{ 'aws:autoscaling:groupName': 'not-ours' }],
    [{ Name: 'web' }],
  ])('leaves %o out', (tags) => {
    expect(optInReason(tags, rule)).toBeUndefined();
  });

  it('only the name tag opts in when no fleet tag or group is configured', () => {
    expect(optInReason({ 'fleetwarden:fleet': 'runners' }, { nameTag: 'n' })).toBeUndefined();
  });
});

describe('tagsForOptIn', () => {
  it("takes a tag change's own tags, the Auto Scaling group from DescribeInstances", () => {
    expect(
      tagsForOptIn(
        { n: 'new' },
        { n: 'old', 'fleetwarden:fleet': 'runners', 'aws:autoscaling:groupName': 'g' },
      ),
    ).toEqual({ n: 'new', 'aws:autoscaling:groupName': 'g' });
    expect(tagsForOptIn(undefined, { n: 'x' })).toEqual({ n: 'x' });
  });
});
