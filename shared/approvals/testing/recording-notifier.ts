import { ProposalNotifyError } from '../errors';
import type { Proposal } from '../model';
import type { ProposalNotifier } from '../port';

/** A notifier that records what it was asked to announce; `failNext()` makes the next call fail. */
export class RecordingNotifier implements ProposalNotifier {
  readonly sent: Proposal[] = [];
  private failure: Error | undefined;

  failNext(cause: Error = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })): void {
    this.failure = cause;
  }

  async proposed(proposal: Proposal): Promise<void> {
    const cause = this.failure;
    if (cause) {
      this.failure = undefined;
      throw new ProposalNotifyError(`could not announce ${proposal.id}: ${cause.message}`, { cause });
    }
    this.sent.push(structuredClone(proposal));
  }
}
