import { ProposalNotifyError } from './errors';
import { proposalMessage } from './message';
import type { Proposal } from './model';
import type { ProposalNotifier } from './port';

/**
 * The one GitHub call this notifier makes, as the fleet's Octokit (`createFleetOctokit`,
 * shared/github/octokit-runner-registry.ts: App auth, pacing, retries, calls noted in the audit
 * record) offers it. The installation needs `issues: write` on the repository.
 */
export interface IssuesApi {
  request(
    route: 'POST /repos/{owner}/{repo}/issues',
    params: { owner: string; repo: string; title: string; body: string; labels: string[] },
  ): Promise<unknown>;
}

/** Opens a GitHub issue per proposal in a configured repository (config `approvals.notify.githubIssues`). */
export class GitHubIssueNotifier implements ProposalNotifier {
  private readonly labels: string[];

  constructor(
    private readonly o: { octokit: IssuesApi; owner: string; repository: string; labels?: readonly string[] },
  ) {
    this.labels = [...(o.labels ?? ['fleetwarden-proposal'])];
  }

  async proposed(proposal: Proposal): Promise<void> {
    const { subject, body } = proposalMessage(proposal, 'markdown');
    const where = `${this.o.owner}/${this.o.repository}`;
    try {
      await this.o.octokit.request('POST /repos/{owner}/{repo}/issues', {
        owner: this.o.owner,
        repo: this.o.repository,
        title: subject,
        body,
        labels: this.labels,
      });
    } catch (err) {
      throw new ProposalNotifyError(
        `could not open an issue in ${where} for proposal ${proposal.id}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * Announce on every channel (SNS, then a GitHub issue): all are tried; if any failed, the call
 * fails with the first failure as cause, so the gate voids the proposal and the retry announces a
 * fresh one everywhere.
 */
export function notifyAll(notifiers: readonly ProposalNotifier[]): ProposalNotifier {
  return {
    async proposed(proposal) {
      const results = await Promise.allSettled(notifiers.map((n) => n.proposed(proposal)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const [first] = failed;
      if (!first) return;
      const why = failed.map((f) => (f.reason as Error).message).join('; ');
      throw new ProposalNotifyError(
        `proposal ${proposal.id}: ${failed.length} of ${notifiers.length} channels failed: ${why}`,
        { cause: first.reason },
      );
    },
  };
}
