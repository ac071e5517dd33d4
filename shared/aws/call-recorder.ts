import { AsyncLocalStorage } from 'node:async_hooks';
import type { AwsCall, GitHubCall } from '../audit/schema';

/**
 * Records every AWS SDK call made inside `recordAwsCalls(fn)`: service, operation, time, the SDK
 * request id and the outcome. The middleware is attached once per client (`instrumentClient`);
 * the calls land in whichever recording is active in the current async context, so one memoised
 * client serves concurrent invocations without mixing their evidence.
 */
interface Evidence {
  calls: AwsCall[];
  githubCalls: GitHubCall[];
}
const storage = new AsyncLocalStorage<Evidence>();
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
 * Run `fn` and return its result together with every AWS call it made. Nested recordings see only
 * their own calls. If `fn` throws, the calls made so far are attached to the error as `awsCalls`
 * so the caller can still write a "failed" audit record with the evidence.
 */
export async function recordAwsCalls<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; calls: AwsCall[]; githubCalls: GitHubCall[] }> {
  const evidence: Evidence = { calls: [], githubCalls: [] };
  try {
    const result = await storage.run(evidence, fn);
    return { result, ...evidence };
  } catch (err) {
    if (err && typeof err === 'object')
      Object.assign(err, { awsCalls: evidence.calls, githubCalls: evidence.githubCalls });
    throw err;
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
