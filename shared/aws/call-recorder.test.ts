import { Readable } from 'node:stream';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { describe, expect, it, vi } from 'vitest';
import { AuditWriteError } from '../audit/errors';
import {
  callsOf,
  ensureIntent,
  instrumentClient,
  noteAwsCall,
  recordAwsCalls,
  UndeclaredCallError,
} from './call-recorder';

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

/** A real Route 53 client (middleware included) whose HTTP handler counts what reaches "AWS". */
function route53Answering() {
  const sent: string[] = [];
  const client = new Route53Client({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { method: string; path: string }) => {
        sent.push(`${request.method} ${request.path}`);
        const body = request.method === 'POST' ? CHANGE_XML : LIST_XML;
        return {
          response: {
            statusCode: 200,
            reason: '',
            headers: { 'x-amzn-requestid': `req-${sent.length}`, 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
  return { client: instrumentClient(client), sent };
}
const CHANGE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2026-11-24T10:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`;
const LIST_XML = `<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets></ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>`;
const change = () =>
  new ChangeResourceRecordSetsCommand({
    HostedZoneId: 'Z1',
    ChangeBatch: {
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: 'a.example.com',
            Type: 'A',
            TTL: 60,
            ResourceRecords: [{ Value: '10.0.0.1' }],
          },
        },
      ],
    },
  });

describe('intent before a fleet-mutating call (ensureIntent)', () => {
  it('never sends a mutating call whose intent record could not be written', async () => {
    const { client, sent } = route53Answering();
    const tableDown = new Error('ProvisionedThroughputExceededException');
    const err = await recordAwsCalls(() => client.send(change()), {
      intent: async () => {
        throw tableDown;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).cause).toBe(tableDown);
    expect(sent).toEqual([]);
  });

  it('writes the intent once, before the first mutating call, and not for reads', async () => {
    const { client, sent } = route53Answering();
    const order: string[] = [];
    const intent = vi.fn(async (about: string) => {
      order.push(`intent ${about} after ${sent.length} requests`);
    });
    await recordAwsCalls(
      async () => {
        await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }));
        expect(intent).not.toHaveBeenCalled();
        await client.send(change());
        await client.send(change());
      },
      { intent },
    );
    expect(order).toEqual(['intent Route53.ChangeResourceRecordSets after 1 requests']);
    expect(sent).toHaveLength(3);
  });

  it('writes the intent outside the recording: its own calls are not evidence of the step', async () => {
    const { client } = route53Answering();
    const plumbing = instrumentClient(
      clientAnswering([{ status: 200, requestId: 'req-plumbing', body: { Rules: [] } }]),
    );
    const { calls } = await recordAwsCalls(() => client.send(change()), {
      intent: async () => {
        await plumbing.send(new ListRulesCommand({}));
      },
    });
    expect(calls.map((c) => c.operation)).toEqual(['ChangeResourceRecordSets']);
  });

  it('refuses every later mutating call of the step once the intent failed', async () => {
    const { client, sent } = route53Answering();
    const intent = vi.fn(async () => {
      throw new Error('table down');
    });
    await recordAwsCalls(
      async () => {
        await expect(client.send(change())).rejects.toBeInstanceOf(AuditWriteError);
        await expect(ensureIntent('GitHub DELETE runner')).rejects.toBeInstanceOf(AuditWriteError);
      },
      { intent },
    );
    expect(intent).toHaveBeenCalledTimes(1);
    expect(sent).toEqual([]);
  });

  it('is a no-op outside a recording (nothing to audit into) and in a recording without intent', async () => {
    await expect(ensureIntent('x')).resolves.toBeUndefined();
    await expect(recordAwsCalls(() => ensureIntent('x'))).resolves.toBeDefined();
  });
});

describe('declared calls only (a kernel action kind names the mutating calls it may make)', () => {
  it('never sends a fleet-mutating call the running action did not declare, and fails the step', async () => {
    const { client, sent } = route53Answering();
    const intent = vi.fn(async () => undefined);
    const err = await recordAwsCalls(
      async () => {
        // the step swallows the refusal: the step still fails
        await client.send(change()).catch(() => undefined);
        return 'done';
      },
      { intent, allowed: new Set(['EC2.TerminateInstances']) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndeclaredCallError);
    expect((err as Error).message).toContain('Route53.ChangeResourceRecordSets');
    expect((err as Error).message).toContain('EC2.TerminateInstances');
    expect(sent).toEqual([]);
    expect(intent).not.toHaveBeenCalled();
  });

  it('fails with the refusal itself when the step wraps it in an error of its own (an adapter error)', async () => {
    const { client, sent } = route53Answering();
    const err = await recordAwsCalls(
      async () => {
        try {
          await client.send(change());
        } catch (cause) {
          throw new Error('Route 53 change failed', { cause });
        }
      },
      { intent: async () => undefined, allowed: new Set(['EC2.TerminateInstances']) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndeclaredCallError);
    expect(sent).toEqual([]);
  });

  it('lets declared calls and every read through', async () => {
    const { client, sent } = route53Answering();
    await recordAwsCalls(
      async () => {
        await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }));
        await client.send(change());
      },
      { intent: async () => undefined, allowed: new Set(['Route53.ChangeResourceRecordSets']) },
    );
    expect(sent).toHaveLength(2);
  });
});
