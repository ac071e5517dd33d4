import { describe, expect, it } from 'vitest';
import { assertionFailures } from './deploy';

describe('integ:deploy reads the assertion results the deployment wrote', () => {
  it('passes successes and names every failed assertion with its mismatch', () => {
    const outputs = {
      FleetwardenIntegAssertions: {
        AssertionResultsAwsApiCallRoute53abc: '{"status":"success"}',
        AssertionResultsHttpApiCallxyz: '{"status":"fail","message":"Expected 202 but received 403"}',
        SomethingElse: 'ignored',
      },
    };
    expect(assertionFailures(outputs)).toEqual([
      'FleetwardenIntegAssertions.AssertionResultsHttpApiCallxyz: Expected 202 but received 403',
    ]);
    expect(assertionFailures({ S: { AssertionResultsA: '{"status":"success"}' } })).toEqual([]);
  });
});
