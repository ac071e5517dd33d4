import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { InMemoryEventBus } from './in-memory-event-bus';
import { EventBridgePublisher } from './publisher';
import { describePublisherContract } from './publisher.contract';

const noWait = { maxAttempts: 3, baseDelayMs: 0, sleep: async () => undefined, random: () => 0 };

describePublisherContract('InMemoryEventBus', () => {
  const bus = new InMemoryEventBus();
  return {
    publisher: bus,
    failNextEntries: (n) => bus.failNextEntries(n),
    accepted: () =>
      bus.events.map((e) => ({ source: e.source, detailType: e['detail-type'], detail: e.detail })),
  };
});

/** A scripted PutEvents at the SDK boundary with EventBridge's per-entry failure shape. */
function scriptedEventBridge() {
  const eb = mockClient(EventBridgeClient);
  let failing = 0;
  let seq = 0;
  const accepted: PutEventsRequestEntry[] = [];
  eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    const Entries = input.Entries.map((entry) => {
      if (failing > 0) {
        failing--;
        return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
      }
      accepted.push(entry);
      return { EventId: `11111111-2222-3333-4444-${String(++seq).padStart(12, '0')}` };
    });
    return { FailedEntryCount: Entries.filter((e) => 'ErrorCode' in e).length, Entries };
  });
  return { eb, accepted, fail: (n: number) => (failing += n) };
}

describePublisherContract('EventBridgePublisher (aws-sdk-client-mock)', () => {
  const s = scriptedEventBridge();
  return {
    publisher: new EventBridgePublisher('fleet-bus', s.eb as unknown as EventBridgeClient, noWait),
    failNextEntries: (n) => s.fail(n),
    accepted: () =>
      s.accepted.map((e) => ({
        source: e.Source ?? '',
        detailType: e.DetailType ?? '',
        detail: JSON.parse(e.Detail ?? '{}'),
      })),
  };
});

describe('EventBridgePublisher', () => {
  it('sends at most 10 entries per PutEvents and names the bus on every entry', async () => {
    const s = scriptedEventBridge();
    const events = Array.from({ length: 23 }, (_, n) => ({ source: 's', detailType: 'd', detail: { n } }));
    await new EventBridgePublisher('fleet-bus', s.eb as unknown as EventBridgeClient, noWait).publish(events);
    const sizes = s.eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(s.accepted.every((e) => e.EventBusName === 'fleet-bus')).toBe(true);
  });

  it('resends exactly the failed entry, not the whole request', async () => {
    const s = scriptedEventBridge();
    s.fail(1);
    await new EventBridgePublisher('fleet-bus', s.eb as unknown as EventBridgeClient, noWait).publish([
      { source: 's', detailType: 'd', detail: { n: 1 } },
      { source: 's', detailType: 'd', detail: { n: 2 } },
    ]);
    const calls = s.eb
      .commandCalls(PutEventsCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.Detail));
    expect(calls).toEqual([['{"n":1}', '{"n":2}'], ['{"n":1}']]);
  });
});
