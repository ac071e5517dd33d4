import { describe, expect, it } from 'vitest';
import {
  FLEET_MUTATING_AWS_OPERATIONS,
  isFleetMutatingAwsCall,
  isFleetMutatingGitHubRequest,
} from './fleet-mutating';

describe('fleet-mutating classification', () => {
  it.each([
    ['Route53', 'ChangeResourceRecordSets'],
    ['EC2', 'TerminateInstances'],
    ['EC2', 'CreateSnapshot'],
    ['EC2', 'DeleteVolume'],
    ['EC2', 'CreateTags'],
    ['AutoScaling', 'CompleteLifecycleAction'],
    ['AutoScaling', 'RecordLifecycleActionHeartbeat'],
  ])('%s.%s changes a fleet resource', (service, operation) => {
    expect(isFleetMutatingAwsCall(service, operation)).toBe(true);
  });

  it.each([
    ['Route53', 'ListResourceRecordSets'],
    ['EC2', 'DescribeInstances'],
    ['EC2', 'DescribeVolumes'],
    ['EC2', 'DescribeSnapshots'],
    ['AutoScaling', 'DescribeAutoScalingInstances'],
    // plumbing: the fleet's own queues, bus and audit table are not fleet resources
    ['SQS', 'ChangeMessageVisibility'],
    ['SQS', 'SendMessage'],
    ['EventBridge', 'PutEvents'],
    ['DynamoDB', 'PutItem'],
    ['CloudTrail', 'LookupEvents'],
    // same operation name under another service is not the fleet's
    ['EC2', 'ChangeResourceRecordSets'],
  ])('%s.%s does not', (service, operation) => {
    expect(isFleetMutatingAwsCall(service, operation)).toBe(false);
  });

  it('lists exactly the agreed AWS operations', () => {
    expect(FLEET_MUTATING_AWS_OPERATIONS).toEqual({
      Route53: ['ChangeResourceRecordSets'],
      EC2: ['TerminateInstances', 'CreateSnapshot', 'DeleteVolume', 'CreateTags'],
      AutoScaling: ['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat'],
    });
  });

  it.each([
    ['DELETE', '/orgs/{org}/actions/runners/{runner_id}'],
    ['DELETE', '/repos/{owner}/{repo}/actions/runners/{runner_id}'],
    ['delete', '/orgs/acme/actions/runners/42'],
    ['PUT', '/orgs/{org}/actions/runners/{runner_id}/labels'],
    ['POST', '/repos/acme/app/actions/runners/42/labels'],
    ['DELETE', '/orgs/acme/actions/runners/42/labels'],
    ['DELETE', '/orgs/acme/actions/runners/42/labels/gpu'],
  ])('GitHub %s %s changes a runner', (method, url) => {
    expect(isFleetMutatingGitHubRequest(method, url)).toBe(true);
  });

  it.each([
    ['GET', '/orgs/{org}/actions/runners'],
    ['GET', '/orgs/acme/actions/runners/42'],
    ['GET', '/orgs/acme/actions/runners/42/labels'],
    ['POST', '/app/installations/456/access_tokens'],
    ['POST', '/orgs/acme/actions/runners/registration-token'],
  ])('GitHub %s %s does not', (method, url) => {
    expect(isFleetMutatingGitHubRequest(method, url)).toBe(false);
  });
});
