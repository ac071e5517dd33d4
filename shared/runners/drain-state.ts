import { FleetwardenError } from '../core/errors';
import type { RunnerCensus } from './census';
import type { ChainLook } from './drain-look';

/** runner-drain's own state could not be read or written: the look fails (audited) and is retried. */
export class DrainStateError extends FleetwardenError {
  override readonly name: string = 'DrainStateError';
}

/**
 * What runner-drain itself found about one lifecycle action on earlier looks. Kept by the drain,
 * never read from a queue message (a message is a hint: anyone allowed to send to the drain queue
 * could otherwise move the deadline clock or skip a confirming listing).
 */
export interface DrainState {
  /** The drain's first look at this action (the deadline clock when Auto Scaling lists no activity). */
  firstLookAt: Date;
  /** Every runner of the instance seen so far (busy and idle): later looks read them by id. */
  runnerIds: number[];
  /** A look's full listing and name lookups found no runner: the next full listing confirms it. */
  absentOnce: boolean;
}

/** Auto Scaling's global cap on a lifecycle action (48 h) plus a margin: state outlives its action. */
export const DRAIN_STATE_TTL_MS = 49 * 3_600_000;

/** The key of one lifecycle action's state: instance and token (a token names one action). */
export const drainStateKey = (instanceId: string, token: string) => `${instanceId}#${token}`;

/**
 * Port: runner-drain's state per lifecycle action. Implementations: `InMemoryDrainState` and
 * `DynamoDbDrainState` (the sweep state table, partition `drain`), held to `drain-state.contract.ts`.
 */
export interface DrainStateStore {
  /**
   * The state of `key`, created at the first call (firstLookAt = `now`, no runner, not absent);
   * every call keeps it at least until `expiresAt`. Throws DrainStateError.
   */
  begin(key: string, now: Date, expiresAt: Date): Promise<DrainState>;
  /** Record what this look found, kept at least until `expiresAt`. Throws DrainStateError. */
  save(key: string, found: { runnerIds: number[]; absentOnce: boolean }, expiresAt: Date): Promise<void>;
  /**
   * The last runner census a drain recorded (census.ts), if any, and when a drain last asked for
   * one before this call, which records `now` as the latest ask. Throws DrainStateError.
   */
  census(now: Date): Promise<CensusRead>;
  /** Record a drain's full listing as the census every drain may use. Throws DrainStateError. */
  recordCensus(census: RunnerCensus, expiresAt: Date): Promise<void>;
  /**
   * Every drain of `instanceId` this state knows (keys `<instanceId>#…`), with its first look and
   * its last (`begin`'s latest `now`): what the scheduled look and an adopted drain judge "a drain
   * is under way" by. Throws DrainStateError.
   */
  looks(instanceId: string): Promise<ChainLook[]>;
}

/** What a drain reads of the shared census: the census, and the previous drain's ask. */
export interface CensusRead {
  census?: RunnerCensus;
  askedAt?: Date;
}

/** How long a census is kept (it serves only drains whose first look came before it). */
export const CENSUS_TTL_MS = 3_600_000;

/**
 * In memory, with the adapter's DynamoDB semantics: firstLookAt is set once (if_not_exists), a
 * save replaces the runners and the absence; TTL deletion is lazy, so nothing is dropped here
 * (an action cannot outlive its state: DRAIN_STATE_TTL_MS > the 48 h cap). `failNext()` injects.
 */
export class InMemoryDrainState implements DrainStateStore {
  private readonly items = new Map<string, DrainState>();
  private last: RunnerCensus | undefined;
  private askedAt: Date | undefined;
  private readonly lastLook = new Map<string, Date>();
  private failures = 0;
  readonly calls = { begin: 0, save: 0, census: 0, recordCensus: 0, looks: 0 };

  failNext(times = 1): void {
    this.failures = times;
  }

  async begin(key: string, now: Date, _expiresAt?: Date): Promise<DrainState> {
    this.calls.begin++;
    this.maybeFail('begin');
    const s = this.items.get(key) ?? { firstLookAt: now, runnerIds: [], absentOnce: false };
    this.items.set(key, s);
    this.lastLook.set(key, now);
    return structuredClone(s);
  }

  async looks(instanceId: string): Promise<ChainLook[]> {
    this.calls.looks++;
    this.maybeFail('looks');
    return [...this.items]
      .filter(([key]) => key.startsWith(`${instanceId}#`))
      .map(([key, s]) => ({
        key,
        firstLookAt: s.firstLookAt,
        lastLookAt: this.lastLook.get(key) ?? s.firstLookAt,
      }));
  }

  async save(key: string, found: { runnerIds: number[]; absentOnce: boolean }, _expiresAt: Date) {
    this.calls.save++;
    this.maybeFail('save');
    const s = this.items.get(key);
    this.items.set(key, {
      firstLookAt: s?.firstLookAt ?? new Date(),
      runnerIds: [...found.runnerIds],
      absentOnce: found.absentOnce,
    });
  }

  async census(now: Date): Promise<CensusRead> {
    this.calls.census++;
    this.maybeFail('census');
    const read: CensusRead = {
      ...(this.last ? { census: structuredClone(this.last) } : {}),
      ...(this.askedAt ? { askedAt: this.askedAt } : {}),
    };
    this.askedAt = now;
    return read;
  }

  async recordCensus(census: RunnerCensus, _expiresAt: Date): Promise<void> {
    this.calls.recordCensus++;
    this.maybeFail('recordCensus');
    this.last = structuredClone(census);
  }

  private maybeFail(op: string): void {
    if (this.failures <= 0) return;
    this.failures--;
    throw new DrainStateError(`drain state ${op} failed (injected)`, { cause: new Error('injected fault') });
  }
}
