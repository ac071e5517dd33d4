import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { loadCommands } from '../program';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORD_ID = 'runner-sweep:0a1b2c3d4e5f60718293a4b5c6d7e8f9';
/**
 * The MCP SDK gives up on a request after 60 s; the child compiles the CLI through tsx first, which
 * took longer than that at load 16-21 ("MCP error -32001: Request timed out"). A slow machine must
 * not fail the test: the bound is the unit stage's own bound for a hung test (vitest.config.ts).
 */
const REQUEST = { timeout: 300_000 };

/** A simulator-style timeline.json: one correlated termination by the sweep, with its cause. */
const records = [
  AuditRecordSchema.parse(
    auditRecord({
      recordId: RECORD_ID,
      time: '2026-11-24T10:00:00.000Z',
      function: 'runner-sweep',
      trigger: { source: 'fleetwarden.schedule', id: 'run-42' },
      subject: { instanceId: 'i-0abc12345', runnerName: 'gh-runner-7' },
      action: 'instance.terminate',
      reason: 'runner offline for 20 minutes and idle',
      calls: [
        {
          service: 'EC2',
          operation: 'TerminateInstances',
          time: '2026-11-24T10:00:01.000Z',
          requestId: 'ec2-term-1',
          outcome: 'success',
        },
      ],
      githubCalls: [
        {
          method: 'GET',
          route: 'GET /orgs/{org}/actions/runners',
          time: '2026-11-24T10:00:00.500Z',
          status: 200,
          requestId: 'gh-req-1',
        },
      ],
      correlation: {
        status: 'resolved',
        attempts: 1,
        calls: [{ requestId: 'ec2-term-1', eventId: 'ct-term-1', eventName: 'TerminateInstances' }],
      },
    }),
  ),
];

let client: Client;
let stderr = '';

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetwarden-mcp-'));
  const file = join(dir, 'timeline.json');
  await writeFile(file, JSON.stringify(records));
  const transport = new StdioClientTransport({
    command: 'npx',
    args: ['tsx', 'cli/main.ts', 'mcp', '--audit-file', file],
    cwd: ROOT,
    env: { ...getDefaultEnvironment(), AWS_REGION: 'eu-west-1' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  client = new Client({ name: 'fleetwarden-test', version: '1.0.0' });
  await client.connect(transport, REQUEST);
});

afterAll(async () => {
  await client?.close();
});

function body(result: Awaited<ReturnType<Client['callTool']>>) {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return JSON.parse((result.content as { text: string }[])[0]?.text ?? '');
}

describe('fleetwarden mcp over stdio (the SDK client, the real CLI as a child process)', () => {
  it('is a registered command', async () => {
    expect((await loadCommands()).map((c) => c.name)).toContain('mcp');
  });

  it('lists the read-only tools', async () => {
    const { tools } = await client.listTools(undefined, REQUEST);
    expect(tools.map((t) => t.name).sort(), stderr).toEqual(['explain_record', 'posture', 'timeline']);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
  });

  it('answers a timeline with the evidence ids of the audit file', async () => {
    const answer = body(
      await client.callTool({ name: 'timeline', arguments: { subject: 'gh-runner-7' } }, undefined, REQUEST),
    );
    expect(answer.evidence).toEqual({
      recordIds: [RECORD_ID],
      eventIds: ['ct-term-1'],
      requestIds: ['ec2-term-1'],
      githubRequestIds: ['gh-req-1'],
      githubDeliveryIds: [],
    });
    expect(answer.notes.join('\n')).toContain('cloudtrail: not consulted');
  });

  it('explains a record: its call, the CloudTrail event that proves it, the evidence ids', async () => {
    const answer = body(
      await client.callTool(
        { name: 'explain_record', arguments: { recordId: RECORD_ID } },
        undefined,
        REQUEST,
      ),
    );
    expect(answer.calls).toEqual([
      {
        call: 'EC2.TerminateInstances',
        time: '2026-11-24T10:00:01.000Z',
        outcome: 'success',
        requestId: 'ec2-term-1',
        cloudTrailEventId: 'ct-term-1',
      },
    ]);
    expect(answer.evidence.recordIds).toEqual([RECORD_ID]);
    expect(answer.evidence.eventIds).toEqual(['ct-term-1']);
  });
});
