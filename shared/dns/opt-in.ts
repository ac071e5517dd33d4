/**
 * Who gets a DNS name. An instance opts in through the name tag, the fleet tag, or by being an
 * instance of a configured Auto Scaling group (`aws:autoscaling:groupName`, which only Auto Scaling
 * can set). Nothing else is ever published, however many instances run in the region.
 */
export interface DnsOptIn {
  /** The tag whose value names the record. */
  nameTag: string;
  /** Instances with this tag (key and value) opt in, named by their instance id when untagged. */
  fleetTag?: { key: string; value: string } | undefined;
  /** Instances of these Auto Scaling groups opt in. */
  autoScalingGroupNames?: readonly string[] | undefined;
}

const ASG_TAG = 'aws:autoscaling:groupName';

/** Why the instance with these tags opts in, or undefined if it does not. */
export function optInReason(tags: Readonly<Record<string, string>>, rule: DnsOptIn): string | undefined {
  if (tags[rule.nameTag]?.trim()) return `name tag ${rule.nameTag}`;
  if (rule.fleetTag && tags[rule.fleetTag.key] === rule.fleetTag.value)
    return `fleet tag ${rule.fleetTag.key}=${rule.fleetTag.value}`;
  const asg = tags[ASG_TAG];
  if (asg !== undefined && (rule.autoScalingGroupNames ?? []).includes(asg))
    return `Auto Scaling group ${asg}`;
  return undefined;
}

/**
 * The tags that decide: a tag change's own tag set (the user's tags as they are now), with the
 * Auto Scaling group from DescribeInstances (users cannot write `aws:` tags, so it cannot lag wrongly).
 */
export function tagsForOptIn(
  eventTags: Readonly<Record<string, string>> | undefined,
  described: Readonly<Record<string, string>>,
): Record<string, string> {
  if (!eventTags) return { ...described };
  const asg = described[ASG_TAG];
  return { ...eventTags, ...(asg !== undefined ? { [ASG_TAG]: asg } : {}) };
}
