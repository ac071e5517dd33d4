import { describe, expect, it } from 'vitest';
import { AuditRecordSchema } from '../../../shared/audit/schema';
import { buildSubjectTimeline } from './model';
import { type HtmlPage, renderTimelinePage } from './render';
import { SUBJECT, sampleDeadLetters, sampleEvents, sampleRecords } from './testing/sample';

function page(overrides: Partial<HtmlPage> = {}): HtmlPage {
  return {
    title: `Timeline for ${SUBJECT}`,
    generatedAt: '2026-11-24T12:00:00.000Z',
    source: 'audit table Fleetwarden-AuditTable (eu-west-1) and CloudTrail',
    notes: ['CloudTrail: 3 events read, complete'],
    subjects: [
      buildSubjectTimeline(SUBJECT, {
        records: sampleRecords(),
        events: sampleEvents(),
        deadLetters: sampleDeadLetters(),
      }),
    ],
    ...overrides,
  };
}

const hostile = AuditRecordSchema.parse({
  ...sampleRecords()[0],
  recordId: 'dns-sync:<b>not-bold</b>',
  reason: '<script>alert("owned")</script> & more',
  correlation: {
    status: 'resolved',
    attempts: 1,
    calls: [],
    trigger: {
      eventId: 'evt"><img src=x onerror=alert(1)>',
      eventName: 'RunInstances',
      eventTime: '2026-11-24T08:00:02.000Z',
      actor: "arn:aws:sts::1:assumed-role/x/' onmouseover='alert(2)",
    },
  },
});

describe('renderTimelinePage', () => {
  it('is one self-contained file: no script, no stylesheet link, nothing fetched at view time', () => {
    const html = renderTimelinePage(page());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    // every link points inside the page
    for (const m of html.matchAll(/\b(?:href|src)="([^"]*)"/g)) expect(m[1]).toMatch(/^#/);
  });

  it('shows every audit record id and CloudTrail event id of the subject, and the actors', () => {
    const html = renderTimelinePage(page());
    const ids = [
      ...sampleRecords().flatMap((r) => [
        r.recordId,
        ...r.correlation.calls.map((c) => c.eventId),
        ...(r.correlation.trigger ? [r.correlation.trigger.eventId] : []),
      ]),
      ...sampleEvents().map((e) => e.eventId),
    ];
    for (const id of ids) expect(html).toContain(id);
    expect(html).toContain('alice@example.com');
    expect(html).toContain('autoscaling.amazonaws.com');
  });

  it('draws the swimlanes and links every mark to a detail card that names its evidence', () => {
    const html = renderTimelinePage(page());
    for (const label of ['Instance state', 'DNS record', 'Runner', 'Jobs', 'Lifecycle hook', 'Dead-lettered'])
      expect(html).toContain(`>${label}<`);
    const targets = [...html.matchAll(/<a class="mk[^"]*" href="#([^"]+)"/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(10);
    for (const t of targets) expect(html).toContain(`id="${t}"`);
    // a mark's own label names its record, event and actor
    expect(html).toMatch(
      /<a class="mk[^"]*" href="#[^"]+" title="2026-11-24T09:20:05Z runner-drain lifecycle.heartbeat acted; record runner-drain:2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70; CloudTrail ct-77b2-heartbeat-0003, 7a9d3b52-asg-4f0e-8c1d-scalein00002; actor runner-drain"/,
    );
  });

  it('writes dates in ISO 8601 with the zone', () => {
    const html = renderTimelinePage(page());
    expect(html).toContain('<time datetime="2026-11-24T09:35:10.000Z">2026-11-24T09:35:10Z</time>');
    expect(html).toContain('2026-11-24T12:00:00Z');
    expect(html).not.toMatch(/>\d\d:\d\d:\d\d</);
  });

  it('shows errors, failed decisions, intents with no outcome and dead-lettered messages', () => {
    const html = renderTimelinePage(page());
    expect(html).toContain('runner-drain runner.deregister failed');
    expect(html).toContain('ThrottledError: GitHub rate limit exhausted');
    expect(html).toContain('Route53.ChangeResourceRecordSets error (Throttling)');
    expect(html).toContain('runner-drain lifecycle.complete intended, outcome unknown');
    expect(html).toContain('runner-drain message dead-lettered after 3 tries');
    expect(html).toContain('msg-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    expect(html).toMatch(
      /class="summary"[\s\S]*1 failed[\s\S]*1 intended, outcome unknown[\s\S]*1 dead-lettered/,
    );
    expect(html).toContain('CloudTrail: 3 events read, complete');
  });

  it('escapes every string that comes from records, events and messages', () => {
    const html = renderTimelinePage(
      page({
        title: 'Timeline for <i>',
        notes: ['<u>note</u>'],
        subjects: [
          buildSubjectTimeline('i-<x>', {
            records: [hostile],
            deadLetters: sampleDeadLetters().map((d) => ({ ...d, body: '</pre><script>alert(3)</script>' })),
          }),
        ],
      }),
    );
    expect(html).not.toMatch(/<script|<img|<b>not-bold|<i>|<u>|onmouseover='|onerror=alert\(1\)>/);
    expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('dns-sync:&lt;b&gt;not-bold&lt;/b&gt;');
    expect(html).toContain('evt&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&#39; onmouseover=&#39;alert(2)');
  });

  it('says so when a subject has nothing to show', () => {
    const html = renderTimelinePage(
      page({ subjects: [buildSubjectTimeline('i-0empty0000', { records: [] })] }),
    );
    expect(html).toContain('No audit record, CloudTrail event or dead-lettered message about i-0empty0000');
  });
});
