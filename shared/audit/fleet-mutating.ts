/**
 * What counts as a FLEET-MUTATING call: one that changes a fleet resource (a DNS record, an instance,
 * a lifecycle action, an EBS volume or its snapshot, a GitHub runner registration). The one list, used by the SDK middleware
 * (`instrumentClient`), the GitHub adapter and the simulator's instrumented fakes: before any of these
 * is sent, the step's intent audit record must be stored (`ensureIntent`, shared/aws/call-recorder.ts).
 *
 * Plumbing is not fleet-mutating: the fleet's own queues (SQS), bus (PutEvents), audit and
 * idempotency tables (DynamoDB), CloudTrail lookups, GitHub token exchanges. Reads never are.
 */
export const FLEET_MUTATING_AWS_OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  Route53: ['ChangeResourceRecordSets'],
  // orphaned-volumes: the snapshot (tagged on creation, no separate CreateTags), the deletion, and
  // the instance tag it writes on a live fleet instance's volume (CreateTags)
  EC2: ['TerminateInstances', 'CreateSnapshot', 'DeleteVolume', 'CreateTags'],
  AutoScaling: ['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat'],
};

/** `service` as the SDK client name without "Client" (e.g. "Route53"), `operation` without "Command". */
export function isFleetMutatingAwsCall(service: string, operation: string): boolean {
  return FLEET_MUTATING_AWS_OPERATIONS[service]?.includes(operation) ?? false;
}

// .../actions/runners/{runner_id} and .../actions/runners/{runner_id}/labels[/{name}], org or repo scope,
// as a route template or an expanded URL (with or without host and query)
const RUNNER = /\/actions\/runners\/(\{runner_id\}|\d+)(\?.*)?$/;
const RUNNER_LABELS = /\/actions\/runners\/(\{runner_id\}|\d+)\/labels(\/[^/?]+)?(\?.*)?$/;

/** A GitHub request that changes a runner: DELETE of a runner, any write to its labels. */
export function isFleetMutatingGitHubRequest(method: string, url: string): boolean {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return false;
  return (m === 'DELETE' && RUNNER.test(url)) || RUNNER_LABELS.test(url);
}
