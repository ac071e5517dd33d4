import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InMemoryInstanceInventory } from '../ec2/in-memory-instance-inventory';
import {
  Ec2StateChangeEventSchema,
  factsFromEvents,
  parseDnsSyncEvent,
  TagChangeEventSchema,
} from './state-change';
import { stateChangeEvent, tagChangeEvent } from './testing/state-change-event';

const I = 'i-0123456789abcdef0';
const T0 = Date.parse('2026-11-24T10:00:00Z');

describe('parseDnsSyncEvent', () => {
  it('reads a state change and an instance tag change (instance id from the resource ARN)', () => {
    expect(parseDnsSyncEvent(stateChangeEvent(I, 'stopped', T0))).toMatchObject({
      ok: true,
      event: { instanceId: I, state: 'stopped', time: '2026-11-24T10:00:00.000Z', source: 'aws.ec2' },
    });
    expect(parseDnsSyncEvent(tagChangeEvent(I, ['n'], { n: 'web' }, T0))).toMatchObject({
      ok: true,
      event: { instanceId: I, state: 'running', tags: { n: 'web' }, detailType: 'Tag Change on Resource' },
    });
  });

  it('refuses a tag change on something that is not an EC2 instance', () => {
    const bucket = {
      ...tagChangeEvent(I, ['n'], {}, T0),
      resources: ['arn:aws:s3:::bucket'],
      detail: { 'changed-tag-keys': ['n'], service: 's3', 'resource-type': 'bucket', tags: {} },
    };
    expect(parseDnsSyncEvent(bucket).ok).toBe(false);
  });
});

describe('factsFromEvents for a tag change', () => {
  it('names the record from the event tags, the IP from DescribeInstances; a removed tag falls back to the id', async () => {
    const inventory = new InMemoryInstanceInventory({ now: () => T0 });
    inventory.put({ instanceId: I, state: 'running', privateIp: '10.0.0.5', tags: { n: 'stale' } });
    const events = [
      tagChangeEvent(I, ['n'], { n: 'fresh' }, T0, 'a'),
      tagChangeEvent(I, ['n'], {}, T0, 'b'),
    ].map(
      (e) =>
        (parseDnsSyncEvent(e) as { ok: true; event: Parameters<typeof factsFromEvents>[0]['events'][number] })
          .event,
    );
    const out = await factsFromEvents({
      events,
      inventory,
      nameTag: 'n',
      now: new Date(T0),
      absentAfterMs: 900_000,
    });
    expect(out.get('a')).toMatchObject({
      kind: 'fact',
      fact: { name: 'fresh', privateIp: '10.0.0.5', state: 'running' },
    });
    expect(out.get('b')).toMatchObject({ kind: 'fact', fact: { name: undefined } });
  });
});

describe('dns event schemas in a bundle', () => {
  it('are zod/mini schemas; a refused event says why in English', () => {
    expect(Ec2StateChangeEventSchema).toBeInstanceOf(z.ZodMiniObject);
    expect(TagChangeEventSchema).toBeInstanceOf(z.ZodMiniObject);
    const r = parseDnsSyncEvent({
      ...stateChangeEvent(I, 'stopped', T0),
      detail: { 'instance-id': 'x', state: 'stopped' },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(z.core.$ZodError);
      expect(r.error.issues[0]?.message).toMatch(/Invalid string: must match pattern/);
    }
  });
});

describe('factsFromEvents for a running event', () => {
  const outcome = async (info: Parameters<InMemoryInstanceInventory['put']>[0], at: number) => {
    const inventory = new InMemoryInstanceInventory({ now: () => T0 + 60_000 });
    inventory.put(info);
    const e = parseDnsSyncEvent(stateChangeEvent(I, 'running', at, 'ev'));
    if (!e.ok) throw e.error;
    const out = await factsFromEvents({
      events: [e.event],
      inventory,
      nameTag: 'n',
      now: new Date(T0 + 60_000),
      absentAfterMs: 900_000,
    });
    return out.get('ev');
  };
  const base = { instanceId: I, privateIp: '10.0.0.5', tags: { n: 'web' } };

  it('is a fact only when DescribeInstances shows the instance running (an IP alone is not enough)', async () => {
    expect(await outcome({ ...base, state: 'running' }, T0)).toMatchObject({ kind: 'fact' });
    expect(await outcome({ ...base, state: 'shutting-down' }, T0)).toMatchObject({ kind: 'skip' });
  });

  it('is stale when the instance stopped after it; retried while it may be a lagging restart', async () => {
    const stopped = {
      ...base,
      state: 'stopped' as const,
      stateChangedAt: new Date(T0 + 10_000).toISOString(),
    };
    expect(await outcome(stopped, T0)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('stale'),
    });
    expect(await outcome(stopped, T0 + 20_000)).toMatchObject({ kind: 'error' });
  });

  it('is a fact when DescribeInstances still shows it pending (right after launch: not leaving)', async () => {
    expect(await outcome({ ...base, state: 'pending' }, T0)).toMatchObject({
      kind: 'fact',
      fact: { state: 'running', privateIp: '10.0.0.5', name: 'web' },
    });
    // pending without an IP yet: retried until DescribeInstances shows one
    const { privateIp: _, ...noIp } = base;
    expect(await outcome({ ...noIp, state: 'pending' }, T0)).toMatchObject({ kind: 'error' });
  });
});
