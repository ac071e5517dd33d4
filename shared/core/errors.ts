/**
 * Base of every error fleetwarden throws on purpose. Subclasses are named after what went wrong
 * (never after where), always carry the underlying `cause`, and are rethrown by handlers so that
 * Lambda / EventBridge / SQS retries and dead-letter queues do their job.
 *
 * Every subclass spells its `name` out (`override readonly name: string = 'PublishError'`): functions
 * and the packaged CLI are minified, which renames classes, so `new.target.name` would log and audit
 * a `PublishError` as `oe`. The abstract member makes a direct subclass declare it; the
 * code-standards guardrail (`errorClassesWithoutName`) checks every level equals the class name.
 */
export abstract class FleetwardenError extends Error {
  abstract override readonly name: string;
  /** The message is required (Error's is optional). */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Configuration (environment, cdk.json context, CLI flags) is missing or malformed. Never retryable. */
export class ConfigError extends FleetwardenError {
  override readonly name: string = 'ConfigError';
}

/** An incoming event or webhook does not have the shape we expect. Retrying will not help. */
export class MalformedEventError extends FleetwardenError {
  override readonly name: string = 'MalformedEventError';
}

/**
 * A dependency answered "slow down" (AWS Throttling, PriorRequestNotComplete, GitHub secondary
 * rate limit) and our own bounded retries ran out. The message must go back to its queue.
 */
export class ThrottledError extends FleetwardenError {
  override readonly name: string = 'ThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The circuit breaker refused to act: a run would remove too much, or its inputs are not trustworthy. */
export class CircuitOpenError extends FleetwardenError {
  override readonly name: string = 'CircuitOpenError';
}

/** True when `err` (or anything in its cause chain) is an instance of `type`. */
export function hasCause<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): boolean {
  let current: unknown = err;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current instanceof type) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
