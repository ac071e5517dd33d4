/** The errors of `err`'s cause chain, outermost first (at most 10: a cycle cannot loop). */
export function errorsOf(err: unknown): Error[] {
  const out: Error[] = [];
  for (let e: unknown = err; e instanceof Error && out.length < 10; e = e.cause) out.push(e);
  return out;
}

/** One error on one line: name, first line of the message, HTTP status and request id when known. */
export function describeError(e: Error): string {
  const meta = (e as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const facts = [
    meta?.httpStatusCode !== undefined && `HTTP ${meta.httpStatusCode}`,
    meta?.requestId && `request ${meta.requestId}`,
  ].filter(Boolean);
  return `${e.name}: ${(e.message ?? '').split('\n')[0]}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

/** Every error of the chain, outermost first, one line each. */
export function causeChain(err: unknown): string[] {
  const errors = errorsOf(err);
  return errors.length > 0 ? errors.map(describeError) : [String(err)];
}
