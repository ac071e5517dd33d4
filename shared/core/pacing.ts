/**
 * How a domain retry loop paces its attempts (jittered backoff): a port, so production sleeps for
 * real and the simulator and tests do not (`FleetPorts.pacing`).
 */
export interface Pacing {
  /** Attempts per call (first try included) before giving up. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** Production pacing: 6 attempts, full jitter from 200 ms, capped at 5 s; real sleeps. */
export const DEFAULT_PACING: Pacing = {
  maxAttempts: 6,
  baseMs: 200,
  capMs: 5000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};
