import { beforeAll, describe, expect, it } from 'vitest';
import { HUB, multiAccountAtScale, SCOPES } from './multi-account.bench';

// 100,000 instances over 3 accounts x 2 regions (hub 40 %, spokes 20/15/10/10/5 %): counts only, never time
describe('hub and spokes at scale (100,000 instances, 3 accounts x 2 regions)', () => {
  let r: Awaited<ReturnType<typeof multiAccountAtScale>>;
  // one run serves every count below (the dns-reconcile planning of 200,000 record sets takes seconds);
  // no time limit of its own: the sim stage has none, so a loaded machine never fails it
  beforeAll(async () => {
    r = await multiAccountAtScale();
  });

  it('runner-sweep lists each scope in pages of 1,000 of its own instances, not of the fleet', () => {
    for (const row of r.sweep.rows) {
      // one fleet-tag listing, paged by 1,000, plus one describe of the ghost ids (asked in every scope)
      expect(row.describeInstances).toBe(Math.ceil(row.instances / 1000) + 1);
      expect(row.autoScaling).toBe(2); // DescribeAutoScalingGroups + DescribeWarmPool of its one ASG
    }
    expect(r.sweep.deregistered).toBe(r.sweep.ghosts);
    expect(r.sweep.githubListPages).toBe(1000); // 100,000 runners at per_page 100
    expect(r.sweep.githubDeletes).toBe(r.sweep.ghosts);
  });

  it('assumes each spoke role once per client per container; the hub assumes none', () => {
    expect(r.sweep.rows.find((row) => row.scope === HUB.key)?.assumeRole).toBe(0);
    for (const row of r.sweep.rows.filter((x) => x.scope !== HUB.key)) expect(row.assumeRole).toBe(2); // its EC2 client + its Auto Scaling client
    // the naive side (one client, hence one AssumeRole, per call) really ran on the same fakes
    for (const row of r.sweep.naive.rows)
      expect(row.assumeRole).toBe(row.scope === HUB.key ? 0 : row.describeInstances + row.autoScaling);
    expect(r.sweep.naive.deregistered).toBe(r.sweep.ghosts);
  });

  it('dns-reconcile reads each scope once in pages of 1,000 and changes nothing in a zone in sync', () => {
    for (const row of r.reconcile.rows) {
      expect(row.describeInstances).toBe(Math.ceil(row.instances / 1000));
      expect(row.assumeRole).toBe(row.scope === HUB.key ? 0 : 1);
    }
    expect(r.reconcile.route53Changes).toBe(0);
    // A + marker per running instance (100 ghosts terminated), 300 record sets a page
    expect(r.reconcile.route53Lists).toBe(Math.ceil((2 * (100_000 - 100)) / 300));
  });

  it('a burst of 1,000 events is described only in each event scope, one role per spoke', () => {
    expect(r.burst.batches).toBe(5);
    expect(r.burst.events).toBe(1000);
    expect(r.burst.forwardARecords).toBe(1000);
    expect(r.burst.failedMessages + r.burst.refused).toBe(0);
    for (const row of r.burst.rows) {
      const share = SCOPES.find((s) => s.key === row.scope)?.share ?? 0;
      expect(row.events).toBe(1000 * share);
      // one DescribeInstances per SQS batch that held one of its events: by batches, not by the fleet
      expect(row.describeInstances).toBe(row.batches);
      expect(row.assumeRole).toBe(row.scope === HUB.key ? 0 : 1);
    }
    expect(r.burst.naive.assumeRole).toBe(r.burst.naive.spokeDescribeInstances);
  });

  it('in the fleet-wide runs the busiest scope calls in proportion to its instances (within 10 %)', () => {
    expect(r.sweep.busiest.ratio).toBeLessThanOrEqual(1.1);
    expect(r.reconcile.busiest.ratio).toBeLessThanOrEqual(1.1);
  });

  it('one Route 53 plan per SQS batch across scopes: at most 1.5x the unsplit calls, every call counted', () => {
    // dns-sync as deployed (one handler per batch, ports following each message scope) against the
    // same batches into one handler with no scopes at all, and against the split by scope it replaced
    // (each scope group its own Route 53 reads and changes); all on the same fresh zone, every
    // ListResourceRecordSets page and ChangeResourceRecordSets counted
    expect(r.burst.naive.route53).toBeLessThanOrEqual(1.5 * r.burst.unsplitRoute53);
    expect(r.burst.splitRoute53).toBeGreaterThan(r.burst.naive.route53);
    expect(r.burst.splitRoute53).toBeLessThanOrEqual(SCOPES.length * r.burst.unsplitRoute53);
  });
});
