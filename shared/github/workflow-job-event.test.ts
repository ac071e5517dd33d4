import { describe, expect, it } from 'vitest';
import { WorkflowJobDetailSchema } from './workflow-job-event';

const detail = {
  deliveryId: 'd-1',
  action: 'in_progress',
  job: {
    id: 1,
    runId: 2,
    name: 'build',
    status: 'in_progress',
    conclusion: null,
    labels: ['self-hosted'],
    runnerId: 7,
    runnerName: 'ci-i-0123456789abcdef0',
    startedAt: '2026-11-30T12:00:00Z',
    completedAt: null,
  },
  repository: 'acme/app',
  organization: 'acme',
};

describe('the published workflow_job detail', () => {
  it('carries the host and the pool the ingress attributed it to', () => {
    expect(WorkflowJobDetailSchema.parse({ ...detail, host: 'ghe.example.com', pool: 'ghes' })).toMatchObject(
      { host: 'ghe.example.com', pool: 'ghes' },
    );
  });

  it('reads an event published before pools existed as github.com, pool default', () => {
    expect(WorkflowJobDetailSchema.parse(detail)).toMatchObject({ host: 'github.com', pool: 'default' });
  });

  it('refuses an empty host or pool', () => {
    expect(WorkflowJobDetailSchema.safeParse({ ...detail, host: '' }).success).toBe(false);
    expect(WorkflowJobDetailSchema.safeParse({ ...detail, pool: '' }).success).toBe(false);
  });
});
