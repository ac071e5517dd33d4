import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../shared/core/errors';
import { causeChain, describeFailure, EXIT } from './errors';

const awsError = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('describeFailure', () => {
  it.each([
    ['AuthFailure', 'AWS was not able to validate the provided access credentials'],
    ['InvalidClientTokenId', 'The security token included in the request is invalid.'],
    [
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    ],
    ['ExpiredToken', 'The security token included in the request is expired'],
    ['ExpiredTokenException', 'The security token included in the request is expired'],
    ['UnrecognizedClientException', 'The security token included in the request is invalid.'],
    ['CredentialsProviderError', 'Could not load credentials from any providers'],
  ])('maps %s (anywhere in the cause chain) to the credentials exit code', (name, message) => {
    const wrapped = new Error('LookupEvents failed', { cause: awsError(name, message) });
    const failure = describeFailure(wrapped);
    expect(failure.code).toBe(EXIT.noCredentials);
    expect(failure.message).toContain(name === 'CredentialsProviderError' ? 'no AWS credentials' : name);
  });

  it('keeps access denied and throttling apart from credentials', () => {
    expect(describeFailure(awsError('AccessDeniedException', 'not authorized')).code).toBe(EXIT.accessDenied);
    expect(describeFailure(new ThrottledError('slow down', 1000)).code).toBe(EXIT.throttled);
  });

  it('names the root cause in the one-line message, not only the outer error', () => {
    const root = awsError('SyntaxError', 'Unexpected token \'<\', "<html><bod"... is not valid JSON', {
      $metadata: { httpStatusCode: 502 },
    });
    const failure = describeFailure(
      new Error('LookupEvents ResourceName=i-1 in eu-west-1 failed', { cause: root }),
    );
    expect(failure.code).toBe(EXIT.failure);
    expect(failure.message).toContain('SyntaxError: Unexpected token');
    expect(failure.message).toContain('HTTP 502');
  });
});

describe('causeChain', () => {
  it('lists every error of the chain, outermost first, with HTTP status and request id', () => {
    const root = awsError(
      'AccessDeniedException',
      'User is not authorized to perform: cloudtrail:LookupEvents',
      {
        $metadata: { httpStatusCode: 400, requestId: 'req-123' },
      },
    );
    const err = new Error('LookupEvents in eu-west-1 failed', { cause: new Error('inner', { cause: root }) });
    expect(causeChain(err)).toEqual([
      'Error: LookupEvents in eu-west-1 failed',
      'Error: inner',
      'AccessDeniedException: User is not authorized to perform: cloudtrail:LookupEvents (HTTP 400, request req-123)',
    ]);
  });
});
