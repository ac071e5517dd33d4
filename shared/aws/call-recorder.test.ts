import { Readable } from 'node:stream';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { callsOf, instrumentClient, noteAwsCall, recordAwsCalls } from './call-recorder';

/**
 * aws-sdk-client-mock replaces `send` and skips the middleware stack, so the recorder is tested
 * one level lower: a real client whose HTTP handler answers with canned responses.
 */
function clientAnswering(
  answers: Array<{ status: number; requestId: string; body: unknown; delayMs?: number }>,
) {
  let i = 0;
  return new EventBridgeClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async () => {
        const answer = answers[Math.min(i++, answers.length - 1)];
        if (!answer) throw new Error('no canned answer');
        if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        return {
          response: {
            statusCode: answer.status,
            reason: '',
            headers: { 'x-amzn-requestid': answer.requestId, 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
          },
        };
      },
    },
  });
}

describe('call recorder', () => {
  it('records service, operation, request id and outcome of each call', async () => {
    const client = instrumentClient(
      clientAnswering([{ status: 200, requestId: 'req-1', body: { Rules: [] } }]),
    );
    const { result, calls } = await recordAwsCalls(async () => {
      await client.send(new ListRulesCommand({}));
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toEqual([
      expect.objectContaining({
        service: 'EventBridge',
        operation: 'ListRules',
        requestId: 'req-1',
        httpStatus: 200,
        outcome: 'success',
      }),
    ]);
  });

  it('records failed calls and attaches them to the error', async () => {
    const client = instrumentClient(
      clientAnswering([
        {
          status: 400,
          requestId: 'req-2',
          body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
        },
      ]),
    );
    const err = await recordAwsCalls(() => client.send(new ListRulesCommand({}))).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ThrottlingException');
    expect(callsOf(err)).toEqual([
      expect.objectContaining({
        operation: 'ListRules',
        outcome: 'error',
        errorName: 'ThrottlingException',
        requestId: 'req-2',
        httpStatus: 400,
      }),
    ]);
  });

  it('keeps concurrent recordings on one shared client apart', async () => {
    const client = instrumentClient(
      clientAnswering([{ status: 200, requestId: 'req-x', body: { Rules: [] }, delayMs: 5 }]),
    );
    const [a, b] = await Promise.all([
      recordAwsCalls(async () => {
        await client.send(new ListRulesCommand({}));
        await client.send(new ListRulesCommand({}));
      }),
      recordAwsCalls(async () => {
        await client.send(new ListRulesCommand({}));
      }),
    ]);
    expect(a.calls).toHaveLength(2);
    expect(b.calls).toHaveLength(1);
  });

  it('does not record outside a recording and instruments a client only once', async () => {
    const client = instrumentClient(
      clientAnswering([{ status: 200, requestId: 'req-3', body: { Rules: [] } }]),
    );
    instrumentClient(client);
    const names = client.middlewareStack.identify().filter((n) => n.includes('fleetwardenCallRecorder'));
    expect(names).toHaveLength(1);
    await expect(client.send(new ListRulesCommand({}))).resolves.toBeDefined();
  });
  it('takes AWS calls noted by hand (a simulator port) into the active recording only', async () => {
    const call = {
      service: 'Route53',
      operation: 'ChangeResourceRecordSets',
      time: '2026-11-24T10:00:00.000Z',
      requestId: 'sim-1',
      outcome: 'success' as const,
    };
    noteAwsCall(call); // outside a recording: dropped
    const { calls } = await recordAwsCalls(async () => {
      noteAwsCall(call);
      return 1;
    });
    expect(calls).toEqual([call]);
  });
});
