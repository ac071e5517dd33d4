import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditWriteError } from '../audit/errors';
import { isFleetMutatingAwsCall } from '../audit/fleet-mutating';
import type { AwsCall, GitHubCall } from '../audit/schema';
import { FleetwardenError } from '../core/errors';

/**
 * A fleet-mutating call that the running action did not declare (its kind's `calls`, see
 * shared/kernel/definition.ts): refused before it is sent, and the action fails.
 */
export class UndeclaredCallError extends FleetwardenError {
  override readonly name: string = 'UndeclaredCallError';
}

/**
 * Records every AWS SDK call made inside `recordAwsCalls(fn)`: service, operation, time, the SDK
 * request id and the outcome. The middleware is attached once per client (`instrumentClient`);
 * the calls land in whichever recording is active in the current async context, so one memoised
 * client serves concurrent invocations without mixing their evidence.
 */
interface Evidence {
  calls: AwsCall[];
  githubCalls: GitHubCall[];
  /** Writes the step's intent record (set by auditedAction); `about` names the first mutating call. */
  intent?: IntentWriter;
  /** The one intent write of this recording, once started (its failure is kept: no retry within a step). */
  intentWrite?: Promise<void>;
  /** The fleet-mutating calls the running action declared; others are refused (unset: any). */
  allowed?: ReadonlySet<string>;
  /** The first undeclared call refused (the step fails even if it swallowed the refusal). */
  undeclared?: UndeclaredCallError;
}
const storage = new AsyncLocalStorage<Evidence>();

/**
 * Writes the intent record of a step: `about` names the first fleet-mutating call
 * ("EC2.TerminateInstances"), `sofar` is a copy of the calls the step made before it (its reads).
 */
export type IntentWriter = (
  about: string,
  sofar: { calls: AwsCall[]; githubCalls: GitHubCall[] },
) => Promise<void>;
const MIDDLEWARE_NAME = 'fleetwardenCallRecorder';

interface MiddlewareContext {
  clientName?: string;
  commandName?: string;
}
interface SdkMetadata {
  $metadata?: { requestId?: string; httpStatusCode?: number };
}
type Handler = (args: unknown) => Promise<{ output: unknown; response?: unknown }>;
interface InstrumentableClient {
  middlewareStack: {
    identify(): string[];
    add(
      mw: (next: Handler, context: MiddlewareContext) => Handler,
      options: { step: 'initialize'; name: string; override?: boolean },
    ): void;
  };
}

function trimSuffix(value: string | undefined, suffix: string): string {
  if (!value) return 'Unknown';
  return value.endsWith(suffix) ? value.slice(0, -suffix.length) : value;
}

/** Attach the recording middleware to an SDK v3 client (idempotent). Returns the client. */
export function instrumentClient<C>(client: C): C {
  const stack = (client as unknown as InstrumentableClient).middlewareStack;
  if (stack.identify().some((entry) => entry.startsWith(MIDDLEWARE_NAME))) return client;
  stack.add(
    (next, context) => async (args) => {
      const calls = storage.getStore()?.calls;
      const time = new Date().toISOString();
      const service = trimSuffix(context.clientName, 'Client');
      const operation = trimSuffix(context.commandName, 'Command');
      // no intent record, no action: the request is not sent and the AuditWriteError propagates
      if (isFleetMutatingAwsCall(service, operation)) await ensureIntent(`${service}.${operation}`);
      try {
        const result = await next(args);
        const meta = (result.output as SdkMetadata | undefined)?.$metadata;
        calls?.push({
          service,
          operation,
          time,
          outcome: 'success',
          ...(meta?.requestId ? { requestId: meta.requestId } : {}),
          ...(meta?.httpStatusCode ? { httpStatus: meta.httpStatusCode } : {}),
        });
        return result;
      } catch (err) {
        const meta = (err as SdkMetadata).$metadata;
        calls?.push({
          service,
          operation,
          time,
          outcome: 'error',
          errorName: (err as Error).name,
          ...(meta?.requestId ? { requestId: meta.requestId } : {}),
          ...(meta?.httpStatusCode ? { httpStatus: meta.httpStatusCode } : {}),
        });
        throw err;
      }
    },
    { step: 'initialize', name: MIDDLEWARE_NAME, override: true },
  );
  return client;
}

/**
 * Run `fn` outside any recording: its calls (the audit table's own writes) are plumbing, not
 * evidence of a step, and a mutating call in it would not wait for an intent.
 */
export function outsideRecording<T>(fn: () => Promise<T>): Promise<T> {
  return storage.exit(fn);
}

/**
 * Make sure the running step's intent audit record is stored before a fleet-mutating call
 * (`shared/audit/fleet-mutating.ts`) is sent. The first call writes it (once per recording, lazily:
 * a step that only reads writes none); later calls wait for the same write. If it fails, this and
 * every later call of the step rejects with AuditWriteError (cause: the write's error), so the
 * mutating call is never sent. The write runs OUTSIDE the recording: the audit table's own calls are
 * plumbing, not evidence of the step, and cannot recurse into another intent.
 * Awaited by the SDK middleware (`instrumentClient`), the GitHub adapter and the simulator's fakes.
 * Outside a recording, or in one without an intent writer, there is nothing to write: it resolves.
 */
export function ensureIntent(about = 'a fleet-mutating call'): Promise<void> {
  const evidence = storage.getStore();
  if (evidence?.allowed && !evidence.allowed.has(about)) {
    const allowed = [...evidence.allowed].join(', ') || 'none';
    evidence.undeclared ??= new UndeclaredCallError(
      `${about} is not a call this action declared (declared: ${allowed}); it was not sent`,
    );
    return Promise.reject(evidence.undeclared);
  }
  const intent = evidence?.intent;
  if (!evidence || !intent) return Promise.resolve();
  const sofar = { calls: [...evidence.calls], githubCalls: [...evidence.githubCalls] };
  evidence.intentWrite ??= outsideRecording(() => intent(about, sofar)).catch((err: unknown) => {
    throw new AuditWriteError(`intent record for ${about} could not be written; the call was not sent`, {
      cause: err,
    });
  });
  return evidence.intentWrite;
}

/**
 * Whether the running code is inside a step that writes intent records (an `auditedAction`). After
 * `await ensureIntent()`, false means the mutating call about to be made has NO intent record (the
 * simulator lists such calls; its invariant fails on them).
 */
export function hasIntentWriter(): boolean {
  return storage.getStore()?.intent !== undefined;
}

/**
 * Run `fn` and return its result together with every AWS call it made. Nested recordings see only
 * their own calls. `options.allowed` names the fleet-mutating calls `fn` may make (a kernel action's
 * declared `calls`): any other is refused before it is sent, and `fn` fails with UndeclaredCallError. `options.intent` writes the step's intent record before its first fleet-mutating
 * call (see `ensureIntent`); without it, mutating calls are only recorded. If `fn` throws, the calls
 * made so far are attached to the error as `awsCalls` so the caller can still write a "failed" audit
 * record with the evidence.
 */
export async function recordAwsCalls<T>(
  fn: () => Promise<T>,
  options: { intent?: IntentWriter; allowed?: ReadonlySet<string> } = {},
): Promise<{ result: T; calls: AwsCall[]; githubCalls: GitHubCall[] }> {
  const evidence: Evidence = {
    calls: [],
    githubCalls: [],
    ...(options.intent ? { intent: options.intent } : {}),
    ...(options.allowed ? { allowed: options.allowed } : {}),
  };
  try {
    const result = await storage.run(evidence, fn);
    if (evidence.undeclared) throw evidence.undeclared;
    return { result, calls: evidence.calls, githubCalls: evidence.githubCalls };
  } catch (err) {
    // a refused undeclared call is a bug in the remediation, whatever error the step wrapped it in
    const thrown = evidence.undeclared ?? err;
    if (thrown && typeof thrown === 'object')
      Object.assign(thrown, { awsCalls: evidence.calls, githubCalls: evidence.githubCalls });
    throw thrown;
  }
}

/**
 * An AWS call made without an instrumented SDK client (the simulator's in-memory ports note theirs
 * here, so audit records and CloudTrail correlation work locally too).
 */
export function noteAwsCall(call: AwsCall): void {
  storage.getStore()?.calls.push(call);
}

/** Adapters for non-AWS APIs (GitHub) report each call here; it lands in the active recording. */
export function noteGitHubCall(call: GitHubCall): void {
  storage.getStore()?.githubCalls.push(call);
}

/** The calls recorded before `err` was thrown inside `recordAwsCalls`, if any. */
export function callsOf(err: unknown): AwsCall[] {
  const calls = (err as { awsCalls?: AwsCall[] } | undefined)?.awsCalls;
  return Array.isArray(calls) ? calls : [];
}

/** The GitHub calls recorded before `err` was thrown inside `recordAwsCalls`, if any. */
export function githubCallsOf(err: unknown): GitHubCall[] {
  const calls = (err as { githubCalls?: GitHubCall[] } | undefined)?.githubCalls;
  return Array.isArray(calls) ? calls : [];
}
