import { describe, expect, it } from 'vitest';
import { workflowJobPayload } from '../../webhook/testing/payloads';
import { restResponseViolations, webhookViolations } from './openapi';

describe("the check against GitHub's OpenAPI descriptions", () => {
  it('holds a described body, and names what a broken one lacks', () => {
    const runner = { id: 1, name: 'r', os: 'Linux', status: 'online', busy: false, labels: [{ name: 'x' }] };
    expect(restResponseViolations('GET', '/orgs/acme/actions/runners/1', 200, runner)).toEqual([]);
    expect(
      restResponseViolations('GET', '/orgs/acme/actions/runners/1', 200, {
        ...runner,
        busy: 'no',
        os: undefined,
      }),
    ).toEqual([
      'GET /orgs/acme/actions/runners/1 200 $: required os missing',
      'GET /orgs/acme/actions/runners/1 200 $.busy: expected boolean, got "no"',
    ]);
  });

  it("holds a 422 to the route's validation-error schema (message and documentation_url required)", () => {
    expect(
      restResponseViolations('DELETE', '/repos/acme/app/actions/runners/1', 422, { message: 'Bad request' }),
    ).toEqual(['DELETE /repos/acme/app/actions/runners/1 422 $: required documentation_url missing']);
  });

  it('refuses a route or a success status the description does not have', () => {
    expect(restResponseViolations('GET', '/orgs/acme/runners', 200, {})).toEqual([
      "GET /orgs/acme/runners 200: no such route in api.github.com's description",
    ]);
    expect(restResponseViolations('DELETE', '/orgs/acme/actions/runners/1', 200, {})).toEqual([
      'DELETE /orgs/acme/actions/runners/1 200: status not described for /orgs/{org}/actions/runners/{runner_id}',
    ]);
  });

  it('takes an in_progress workflow_job whose runner_id is null but runner_name is set as valid', () => {
    const p = workflowJobPayload('in_progress', { runnerId: null, runnerName: 'ci-i-0123456789abcdef0' });
    expect(webhookViolations('workflow-job-in-progress', p, 'workflow_job')).toEqual([]);
    expect(
      webhookViolations(
        'workflow-job-in-progress',
        { ...p, workflow_job: { ...p.workflow_job, runner_id: 'x' } },
        'workflow_job',
      ),
    ).not.toEqual([]);
  });

  it.each(['queued', 'waiting', 'in_progress', 'completed'] as const)(
    'holds the %s workflow_job fixture to the webhook description',
    (action) => {
      const p = workflowJobPayload(action);
      const name = `workflow-job-${action.replace('_', '-')}`;
      expect(webhookViolations(name, p, 'workflow_job')).toEqual([]);
      expect(webhookViolations(name, p, 'action')).toEqual([]);
    },
  );
});
