import { describe, expect, it } from 'vitest';
import { ProposalNotifyError } from './errors';
import { GitHubIssueNotifier, notifyAll } from './github-issue-notifier';
import { proposalMessage } from './message';
import { aProposal } from './testing/fixtures';
import { RecordingNotifier } from './testing/recording-notifier';

function fakeIssues(answer: () => Promise<unknown> = async () => ({ status: 201, data: { number: 7 } })) {
  const calls: Array<{ route: string; params: Record<string, unknown> }> = [];
  return {
    calls,
    api: {
      request: async (route: string, params: Record<string, unknown>) => {
        calls.push({ route, params });
        return answer();
      },
    },
  };
}

describe('GitHubIssueNotifier', () => {
  it('opens an issue in the configured repository: the subject as title, the markdown message, labelled', async () => {
    const gh = fakeIssues();
    const p = aProposal();
    await new GitHubIssueNotifier({ octokit: gh.api, owner: 'acme', repository: 'ops' }).proposed(p);
    const { subject, body } = proposalMessage(p, 'markdown');
    expect(gh.calls).toEqual([
      {
        route: 'POST /repos/{owner}/{repo}/issues',
        params: { owner: 'acme', repo: 'ops', title: subject, body, labels: ['fleetwarden-proposal'] },
      },
    ]);
  });

  it('fails with a ProposalNotifyError carrying the cause (e.g. the App may not write issues)', async () => {
    const cause = Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
    const gh = fakeIssues(() => Promise.reject(cause));
    const err = await new GitHubIssueNotifier({ octokit: gh.api, owner: 'acme', repository: 'ops' })
      .proposed(aProposal())
      .catch((e) => e);
    expect(err).toBeInstanceOf(ProposalNotifyError);
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('acme/ops');
  });
});

describe('notifyAll', () => {
  it('announces on every channel', async () => {
    const [a, b] = [new RecordingNotifier(), new RecordingNotifier()];
    await notifyAll([a, b]).proposed(aProposal());
    expect([a.sent.length, b.sent.length]).toEqual([1, 1]);
  });

  it('tries every channel, then fails if one failed (never swallowed)', async () => {
    const [a, b] = [new RecordingNotifier(), new RecordingNotifier()];
    a.failNext();
    const err = await notifyAll([a, b])
      .proposed(aProposal())
      .catch((e) => e);
    expect(b.sent).toHaveLength(1);
    expect(err).toBeInstanceOf(ProposalNotifyError);
    expect(err.message).toContain('1 of 2 channels');
  });
});
