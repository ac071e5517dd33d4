import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleFixtures, diffTemplates, normaliseTemplate, synth } from './snapshot';

const hash = 'a'.repeat(64);
const other = 'b'.repeat(64);

function fn(key: string, extra: Record<string, unknown> = {}) {
  return {
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: 'b', S3Key: `${key}.zip` }, Runtime: 'nodejs22.x', ...extra },
      },
      Assert: {
        Type: 'Custom::DeployAssert@SdkCallLambdagetFunction',
        Properties: { salt: '1732480000000' },
      },
    },
  };
}

describe('integ snapshot comparison', () => {
  it('ignores asset hashes and assertion salts (code changes are not template changes)', () => {
    const a = normaliseTemplate(fn(hash));
    const b = normaliseTemplate({
      ...fn(other),
      Resources: {
        ...fn(other).Resources,
        Assert: { ...fn(other).Resources.Assert, Properties: { salt: '9' } },
      },
    });
    expect(diffTemplates(a, b)).toEqual([]);
  });

  it('names every added, removed and changed resource property', () => {
    const before = normaliseTemplate(fn(hash));
    const after = normaliseTemplate({
      Resources: {
        Fn: {
          ...fn(hash).Resources.Fn,
          Properties: { ...fn(hash).Resources.Fn.Properties, Runtime: 'nodejs24.x' },
        },
        Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      },
    });
    expect(diffTemplates(before, after)).toEqual([
      '~ Resources.Fn.Properties.Runtime: "nodejs22.x" -> "nodejs24.x"',
      '- Resources.Assert (Custom::DeployAssert@SdkCallLambdagetFunction)',
      '+ Resources.Queue (AWS::SQS::Queue)',
    ]);
  });
});

describe('integ snapshot synthesis', () => {
  it('synthesizes the way integ:deploy deploys: through the cdk CLI, with cdk.json context and feature flags', () => {
    const out = mkdtempSync(join(tmpdir(), 'fw-integ-probe-'));
    try {
      synth(fileURLToPath(new URL('./fixtures/context-probe.ts', import.meta.url)), out);
      const template = JSON.parse(readFileSync(join(out, 'FleetwardenContextProbe.template.json'), 'utf8'));
      expect(template.Outputs.MinimizePolicies.Value).toBe('true');
      // the flag's effect: the two SendMessage statements are merged into one
      const policy = Object.values(template.Resources).find(
        (r) => (r as { Type: string }).Type === 'AWS::IAM::Policy',
      ) as { Properties: { PolicyDocument: { Statement: unknown[] } } };
      expect(policy.Properties.PolicyDocument.Statement).toHaveLength(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("the integration app's own Lambda entries (the snapshot synthesizes without bundling)", () => {
  it('bundles every fixture that exports a handler, and fails on one that does not bundle', () => {
    expect(bundleFixtures(fileURLToPath(new URL('./fixtures', import.meta.url)))).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'fw-integ-fixtures-'));
    try {
      mkdirSync(join(dir, 'broken'));
      writeFileSync(
        join(dir, 'broken/index.ts'),
        "import { gone } from './missing';\nexport const handler = async () => gone();\n",
      );
      writeFileSync(
        join(dir, 'helper.ts'),
        "import { gone } from './missing';\nexport const notAHandler = gone;\n",
      );
      // the helper is no entry (no handler export): only the broken entry fails
      expect(bundleFixtures(dir)).toBe(1);
      rmSync(join(dir, 'broken'), { recursive: true });
      expect(bundleFixtures(dir)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
