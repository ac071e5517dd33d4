import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Test helpers that compare what a function's code calls with what its role is granted, so a missing
 * IAM action (which no in-memory fake can reveal) fails a unit test instead of a live run.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** SDK client package -> IAM service prefix. */
const IAM_PREFIX: Record<string, string> = {
  'auto-scaling': 'autoscaling',
  ec2: 'ec2',
  sqs: 'sqs',
  'secrets-manager': 'secretsmanager',
  dynamodb: 'dynamodb',
  eventbridge: 'events',
  cloudtrail: 'cloudtrail',
  'route-53': 'route53',
  kms: 'kms',
  'cloudwatch-logs': 'logs',
};

/**
 * The IAM actions a function's code can call: follows the handler's value imports (not
 * `import type`) and dynamic imports through the repository and collects every `new XCommand(` of an @aws-sdk client.
 * The audit sink and store are left out: their table grants come from AuditAccess (tested with the
 * audit trail). `skip` leaves modules out (a construct test of a stack without the approval flow
 * leaves the approval wiring out: the Approvals construct grants its calls when deployed).
 */
export function sdkActionsOf(entry: string, options: { skip?: readonly string[] } = {}): Set<string> {
  const skip = new Set((options.skip ?? []).map((f) => resolve(ROOT, f)));
  const actions = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || skip.has(file) || file.includes('/shared/audit/')) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    const commandService = new Map<string, string>();
    for (const m of src.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      const [, typeOnly, names = '', from = ''] = m;
      const client = from.match(/^@aws-sdk\/client-([\w-]+)$/)?.[1];
      if (client && !typeOnly) {
        for (const n of names.split(',').map((x) => x.trim().replace(/^type\s+/, ''))) {
          if (n.endsWith('Command')) commandService.set(n, IAM_PREFIX[client] ?? client);
        }
      } else if (!typeOnly && from.startsWith('.')) {
        const allTypes = names.split(',').every((x) => x.trim() === '' || x.trim().startsWith('type '));
        if (!allTypes) visit(resolve(dirname(file), `${from}.ts`));
      }
    }
    // a lazily loaded module (`() => import('../x')`, e.g. the approval wiring) is bundled and called too
    // (comments left out: a doc comment may show such an import)
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g))
      visit(resolve(dirname(file), `${m[1]}.ts`));
    for (const m of src.matchAll(/new\s+(\w+Command)\(/g)) {
      const service = commandService.get(m[1] ?? '');
      if (service) actions.add(`${service}:${(m[1] ?? '').replace(/Command$/, '')}`);
      // EC2 tags on create (TagSpecifications) are authorised as ec2:CreateTags too (EC2 User Guide,
      // "Grant permission to tag Amazon EC2 resources during creation")
      if (service === 'ec2' && /^Create/.test(m[1] ?? '') && src.includes('TagSpecifications'))
        actions.add('ec2:CreateTags');
    }
  };
  visit(resolve(ROOT, entry));
  return actions;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

/** Actions in the policies attached to this function's role (its own async DLQ's SendMessage aside). */
export function roleActions(
  stack: Stack,
  t: Template,
  ff: { role: iam.Role; deadLetterQueue: { node: { defaultChild?: unknown } } },
): Set<string> {
  const roleId = stack.getLogicalId(ff.role.node.defaultChild as iam.CfnRole);
  // Lambda's asynchronous-invocation DLQ: the Lambda service sends there with the function's role
  const ownDlq = stack.getLogicalId(ff.deadLetterQueue.node.defaultChild as CfnElement);
  const out = new Set<string>();
  for (const p of Object.values(t.findResources('AWS::IAM::Policy'))) {
    if (!JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`)) continue;
    for (const s of p.Properties.PolicyDocument.Statement as Statement[]) {
      if (s.Effect !== 'Allow') continue;
      const actions = [s.Action].flat();
      if (JSON.stringify(s.Resource).includes(`"${ownDlq}"`) && actions.every((a) => a === 'sqs:SendMessage'))
        continue;
      for (const a of actions) out.add(a);
    }
  }
  return out;
}

/** Granted by the platform (tracing, logs, keys, the SQS event source), not called by adapters. */
export function isPlatformAction(a: string): boolean {
  return (
    a.startsWith('xray:') ||
    a.startsWith('logs:') ||
    a.startsWith('kms:') ||
    ['secretsmanager:DescribeSecret'].includes(a) ||
    // the SQS event source mapping polls with the function's role
    [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ].includes(a)
  );
}
