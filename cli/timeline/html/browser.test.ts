import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { toAuditItem } from '../../../shared/audit/audit-item';
import { AuditRecordSchema } from '../../../shared/audit/schema';
import { toRecorded } from '../../../shared/cloudtrail/testing/recorded';
import { command } from '../../commands/timeline';
import { runCli } from '../../program';
import { testDeps } from '../../test-deps';
import { dumpDom, findChromium, layoutWidth, screenshot } from './testing/chromium';
import { SUBJECT, sampleEvents, sampleRecords } from './testing/sample';

/**
 * The HTML timeline as a browser shows it: `fleetwarden timeline <subject> --html` over the
 * sample subject (audit table and CloudTrail scripted at the SDK boundary), opened from disk in
 * headless Chromium. Screenshots go to a temporary directory; FLEETWARDEN_UPDATE_SCREENSHOTS=1
 * copies them to docs/ (the README shows one).
 */
const CHROMIUM = findChromium();
const SKIPPED =
  "SKIPPED: no chromium binary (.ci/run installs Debian's chromium with apt-get; or set FLEETWARDEN_CHROMIUM to a Chromium/Chrome binary)";
if (!CHROMIUM) console.warn(`HTML timeline browser test ${SKIPPED}`);

const ddb = mockClient(DynamoDBClient);
const ct = mockClient(CloudTrailClient);

const hostile = AuditRecordSchema.parse({
  ...sampleRecords()[1],
  recordId: 'runner-job-watch:hostile-0001',
  reason:
    '<script>document.body.dataset.owned="yes"</script><img src=x onerror="document.body.dataset.owned=1">',
});

/** The page `timeline --html` writes for these records and events. */
async function pageFor(records = sampleRecords()): Promise<string> {
  ddb.reset();
  ct.reset();
  ddb.on(QueryCommand).resolves({ Items: records.map((r) => toAuditItem(r, { retentionDays: 400 })) });
  ct.on(LookupEventsCommand).resolves({ Events: sampleEvents().map(toRecorded) });
  const t = testDeps('2026-11-24T12:00:00Z');
  const code = await runCli(['node', 'fleetwarden', 'timeline', SUBJECT, '--html', 'page.html'], t.deps, [
    command,
  ]);
  expect(code, t.stderr()).toBe(0);
  return t.files.get('page.html') as string;
}

describe.skipIf(!CHROMIUM)(`HTML timeline in headless Chromium (${CHROMIUM ?? SKIPPED})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-html-'));
  const file = join(dir, 'timeline.html');
  const browser = CHROMIUM as string;

  beforeAll(async () => {
    writeFileSync(file, await pageFor());
  });

  it('the rendered DOM holds every audit record id and CloudTrail event id of the subject', async () => {
    const dom = await dumpDom(browser, file);
    const ids = [
      ...sampleRecords().flatMap((r) => [
        r.recordId,
        ...r.correlation.calls.map((c) => c.eventId),
        ...(r.correlation.trigger ? [r.correlation.trigger.eventId] : []),
      ]),
      ...sampleEvents().map((e) => e.eventId),
    ];
    expect(ids.length).toBeGreaterThan(15);
    for (const id of ids) expect(dom).toContain(id);
    expect(dom).toContain('Lifecycle hook');
  });

  it('shows a reason with <script> as text and runs nothing from it', async () => {
    const hostileFile = join(dir, 'hostile.html');
    writeFileSync(hostileFile, await pageFor([...sampleRecords(), hostile]));
    const dom = await dumpDom(browser, hostileFile);
    expect(dom).toContain('&lt;script&gt;document.body.dataset.owned="yes"&lt;/script&gt;');
    expect(dom).not.toMatch(/<script|<img|data-owned/);
  });

  it('fits a 420 px phone screen: no element wider than the viewport', async () => {
    const { width, widest } = await layoutWidth(browser, file, 420);
    expect(width, `widest element: ${widest}`).toBeLessThanOrEqual(420);
    // the probe sees an overflow when there is one
    const wide = join(dir, 'wide.html');
    writeFileSync(wide, '<!doctype html><html><body><pre>'.concat('x'.repeat(200), '</pre></body></html>'));
    expect((await layoutWidth(browser, wide, 420)).width).toBeGreaterThan(420);
  });

  it('screenshots the page at 1400 px and 420 px', async () => {
    for (const width of [1400, 420]) {
      const png = join(dir, `timeline-${width}.png`);
      await screenshot(browser, file, png, width, 900);
      const bytes = readFileSync(png);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      // IHDR: width and height, big-endian, at bytes 16 and 20
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([width, 900]);
      if (process.env.FLEETWARDEN_UPDATE_SCREENSHOTS === '1') {
        const docs = fileURLToPath(new URL('../../../docs', import.meta.url));
        mkdirSync(docs, { recursive: true });
        copyFileSync(png, join(docs, `timeline-${width}.png`));
      }
    }
  });
});
