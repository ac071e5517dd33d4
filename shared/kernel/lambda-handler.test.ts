import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { APPROVALS_ENV } from '../approvals/testing/fixtures';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { ConfigError } from '../core/errors';
import { REPORT_ONLY_GATE } from './approval';
import { ungatedLambdaHandler } from './lambda-handler';
import type { Remediation, Runtime } from './remediation';
import { ungatedScopedLambdaHandler } from './scoped-lambda-handler';
import { type Setting, setting } from './settings';

type Example = Remediation<{ limit: Setting<number> }, 'fix', 'audit', unknown, unknown>;

/** A remediation whose handler answers with what it was built with; `reversible: false` gates it. */
const remediationOf = (reversible: boolean): Example => ({
  name: 'example-reader',
  summary: 'Reads what each event names.',
  entry: 'functions/example-reader/index.ts',
  triggers: [{ kind: 'schedule', minutes: 5 }],
  settings: { limit: setting.integer('LIMIT', { doc: 'reads per event', default: 1, min: 1 }) },
  actions: {
    fix: { audit: 'thing.fix', does: 'fix the thing', reversible, weight: 1, iam: () => [], calls: [] },
  },
  reads: () => [],
  ports: ['audit'],
  create: (_ports, settings, runtime: Runtime) => async () => ({ settings, gate: runtime.gate }),
});

// the whole approval group, valid: an ungated entry must not read it (nor be refused by it)

afterEach(() => vi.unstubAllEnvs());

describe('ungatedLambdaHandler: the entry of a remediation with no gated action', () => {
  it('wires it with its settings and the report-only gate, approvals deployed or not', async () => {
    for (const [k, v] of Object.entries({ ...APPROVALS_ENV, LIMIT: '3' })) vi.stubEnv(k, v);
    const handler = ungatedLambdaHandler(remediationOf(true), () => ({ audit: new InMemoryAuditSink() }));
    await expect(handler({}, {} as Context)).resolves.toEqual({
      settings: { limit: 3 },
      gate: REPORT_ONLY_GATE,
    });
  });

  it('refuses a remediation that needs approval: its entry wires the gate (lambdaHandler { approvals })', async () => {
    const handler = ungatedLambdaHandler(remediationOf(false), () => ({ audit: new InMemoryAuditSink() }));
    const run = handler({}, {} as Context);
    await expect(run).rejects.toThrow(ConfigError);
    await expect(handler({}, {} as Context)).rejects.toThrow(
      /example-reader: it needs approval \(a gated action\), so its entry is lambdaHandler with \{ approvals \}/,
    );
  });
});

describe('ungatedScopedLambdaHandler: the same for a hub function that acts in spokes', () => {
  it('wires it with the report-only gate; refuses one that needs approval', async () => {
    const topology = () => undefined;
    const ok = ungatedScopedLambdaHandler(remediationOf(true), () => ({ audit: new InMemoryAuditSink() }), {
      topology,
    });
    await expect(ok({}, {} as Context)).resolves.toEqual({ settings: { limit: 1 }, gate: REPORT_ONLY_GATE });
    const gated = ungatedScopedLambdaHandler(
      remediationOf(false),
      () => ({ audit: new InMemoryAuditSink() }),
      {
        topology,
      },
    );
    await expect(gated({}, {} as Context)).rejects.toThrow(/example-reader: it needs approval/);
  });
});
