import { causeChain, describeError, errorsOf } from '../shared/core/error-chain';
import { ConfigError, FleetwardenError, ThrottledError } from '../shared/core/errors';

/** Exit codes, stable for scripts. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unknownSubject: 3,
  throttled: 4,
  noCredentials: 5,
  accessDenied: 6,
  /** Printed what could be read; a source or check could not be read (stderr and JSON say which). */
  incomplete: 7,
  /** approve/reject refused locally: the fleet would not honour the decision (nothing was written). */
  refused: 8,
} as const;

/** Nothing in the audit table or CloudTrail mentions the subject. */
export class UnknownSubjectError extends FleetwardenError {
  override readonly name: string = 'UnknownSubjectError';
}

/** No proposal with that id in the proposals table. */
export class UnknownProposalError extends FleetwardenError {
  override readonly name: string = 'UnknownProposalError';
}

/** approve/reject refused before anything was written: the fleet would not honour the decision. */
export class DecisionRefusedError extends FleetwardenError {
  override readonly name: string = 'DecisionRefusedError';
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CliFailure {
  code: number;
  message: string;
  hint: string;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);
/** AWS error codes that mean "these credentials are missing, invalid, expired or mis-signed". */
export const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
]);

const chain = errorsOf;
const describeOne = describeError;

export { causeChain };

/** FLEETWARDEN_DEBUG=1: the whole cause chain, one line each, then every stack in it. */
export function debugReport(err: unknown): string {
  const stacks = chain(err).map((e, i) => `${i === 0 ? '' : 'caused by: '}${e.stack ?? describeOne(e)}`);
  return `cause chain:\n${causeChain(err)
    .map((l) => `  ${l}\n`)
    .join('')}${stacks.join('\n')}\n`;
}

/** True when a credentials problem (missing, invalid, expired, mis-signed) is anywhere in the chain. */
export function isCredentialError(err: unknown): boolean {
  return chain(err).some(
    (e) => CREDENTIAL_ERRORS.has(e.name) || /Could not load credentials/i.test(e.message),
  );
}

/** One line and a hint for every error an operator can meet; the exit code says which kind. */
export function describeFailure(err: unknown): CliFailure {
  const errors = chain(err);
  const names = errors.map((e) => e.name);
  const root = errors.at(-1);
  if (names.includes('CredentialsProviderError') || /Could not load credentials/i.test(root?.message ?? '')) {
    return {
      code: EXIT.noCredentials,
      message: 'no AWS credentials found',
      hint: 'assume the Investigator role first (e.g. AWS_PROFILE=fleetwarden-investigator, or aws sso login)',
    };
  }
  const rejected = errors.find((e) => CREDENTIAL_ERRORS.has(e.name));
  if (rejected) {
    return {
      code: EXIT.noCredentials,
      message: `AWS rejected the credentials: ${describeOne(rejected)}`,
      hint: 'refresh or re-assume the Investigator role (aws sso login); an opt-in region not enabled for the account answers the same way',
    };
  }
  if (errors.some((e) => e instanceof ThrottledError) || names.some((n) => THROTTLING.has(n))) {
    return {
      code: EXIT.throttled,
      message: `AWS is throttling requests: ${(errors[0]?.message ?? '').split('\n')[0]}`,
      hint: 'wait a minute and retry; narrow the window with --since to make fewer CloudTrail calls',
    };
  }
  const denied = errors.find((e) => DENIED.has(e.name));
  if (denied && names.includes('ApproverRoleError')) {
    return {
      code: EXIT.accessDenied,
      message: `${errors[0]?.message}: ${denied.message.split('\n')[0]}`,
      hint: 'only the configured approvers may assume the Approver role (its trust policy names them); check who you are signed in as: aws sts get-caller-identity',
    };
  }
  if (denied) {
    return {
      code: EXIT.accessDenied,
      message: `access denied: ${denied.message.split('\n')[0]}`,
      hint: 'use the Investigator role from the fleetwarden stack (it has exactly the read permissions these commands need)',
    };
  }
  if (err instanceof UnknownProposalError) {
    return { code: EXIT.unknownSubject, message: err.message, hint: 'list them with: fleetwarden proposals' };
  }
  if (err instanceof DecisionRefusedError) {
    return { code: EXIT.refused, message: err.message, hint: err.hint };
  }
  if (err instanceof UnknownSubjectError) {
    return {
      code: EXIT.unknownSubject,
      message: err.message,
      hint: 'check the spelling (instance ids look like i-0abc1234...); widen --since; audit records expire after the retention period and CloudTrail keeps 90 days',
    };
  }
  if (err instanceof ConfigError) {
    return { code: EXIT.usage, message: err.message, hint: 'see --help' };
  }
  const first = errors[0];
  const because = root && root !== first ? `; cause: ${describeOne(root)}` : '';
  return {
    code: EXIT.failure,
    message: first ? `${describeOne(first)}${because}` : String(err),
    hint: 'rerun with FLEETWARDEN_DEBUG=1 for the full error chain',
  };
}
