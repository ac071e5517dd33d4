/** A workflow_job webhook payload shaped like GitHub's (fields fleetwarden reads, plus some it ignores). */
export function workflowJobPayload(
  action: 'queued' | 'in_progress' | 'completed' | 'waiting',
  overrides: { jobId?: number; runnerId?: number | null; runnerName?: string | null; labels?: string[] } = {},
) {
  const queued = action === 'queued' || action === 'waiting';
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
      created_at: '2026-11-24T10:00:00Z',
      started_at: '2026-11-24T10:00:05Z',
      completed_at: action === 'completed' ? '2026-11-24T10:05:00Z' : null,
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
