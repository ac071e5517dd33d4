/**
 * A workflow_job webhook payload shaped like GitHub's (fields fleetwarden reads, plus some it ignores;
 * the workflow_job object holds to @octokit/openapi-webhooks, see payloads.test.ts). `at` is when
 * the action happened (ms epoch, default now): created_at/started_at/completed_at follow from it.
 */
export function workflowJobPayload(
  action: 'queued' | 'in_progress' | 'completed' | 'waiting',
  overrides: {
    jobId?: number;
    runnerId?: number | null;
    runnerName?: string | null;
    labels?: string[];
    at?: number;
  } = {},
) {
  const queued = action === 'queued' || action === 'waiting';
  const at = overrides.at ?? Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const started = action === 'completed' ? at - 300_000 : at;
  const created = queued ? at : started - 5_000;
  return {
    action,
    workflow_job: {
      id: overrides.jobId ?? 29679449,
      run_id: 5822302123,
      workflow_name: 'CI',
      head_branch: 'main',
      run_url: 'https://api.github.com/repos/acme/app/actions/runs/5822302123',
      run_attempt: 1,
      node_id: 'CR_kwDOA',
      head_sha: 'f83a356604ae3c5d03e1b46ef4d1ca77d64a90b0',
      url: 'https://api.github.com/repos/acme/app/actions/jobs/29679449',
      html_url: 'https://github.com/acme/app/runs/29679449',
      status: action === 'completed' ? 'completed' : action,
      conclusion: action === 'completed' ? 'success' : null,
      created_at: iso(created),
      started_at: iso(started),
      completed_at: action === 'completed' ? iso(at) : null,
      name: 'build',
      steps: [],
      check_run_url: 'https://api.github.com/repos/acme/app/check-runs/29679449',
      labels: overrides.labels ?? ['self-hosted', 'linux'],
      runner_id: queued ? null : overrides.runnerId === undefined ? 16 : overrides.runnerId,
      runner_name: queued
        ? null
        : overrides.runnerName === undefined
          ? 'ci-i-0123456789abcdef0'
          : overrides.runnerName,
      runner_group_id: queued ? null : 1,
      runner_group_name: queued ? null : 'Default',
    },
    repository: { id: 1296269, name: 'app', full_name: 'acme/app', private: true, owner: { login: 'acme' } },
    organization: { login: 'acme', id: 9919 },
    sender: { login: 'octocat', id: 1 },
    installation: { id: 456 },
  };
}
