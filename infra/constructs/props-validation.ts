import type { Construct } from 'constructs';

/** A construct was given props it cannot honour; the message names the construct path and every bad value. */
export class InvalidPropsError extends Error {
  override readonly name = 'InvalidPropsError';
}

/**
 * Called before `super()` by every fleet construct: throws one error listing every problem (each
 * showing the value given), so a user fixes them all in one go.
 */
export function refuseInvalidProps(
  construct: string,
  scope: Construct,
  id: string,
  problems: readonly string[],
): void {
  if (problems.length === 0) return;
  throw new InvalidPropsError(
    `${construct} ${[scope.node.path, id].filter(Boolean).join('/')}: ${problems.join('; ')}`,
  );
}
