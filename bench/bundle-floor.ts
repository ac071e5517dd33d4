import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * A function's FLOOR: the smallest handler that creates the same AWS SDK clients and sends the same
 * commands as the function's code, and does nothing else. Found by following the entry's value
 * imports through the repository (audit sink included: its table calls are part of every
 * invocation) and collecting the `...Client` and `...Command` names imported from `@aws-sdk/*`.
 */
export interface SdkUse {
  /** package -> client class names and command names imported from it */
  packages: Map<string, { clients: Set<string>; commands: Set<string> }>;
}

const SDK = /^@aws-sdk\/(client-[\w-]+|lib-dynamodb)$/;

/** SDK calls a library makes for the function (its persistence layer), by the import that brings it. */
const LIBRARY_CALLS: Record<string, [string, string[]]> = {
  '@aws-lambda-powertools/idempotency/dynamodb': [
    '@aws-sdk/client-dynamodb',
    ['DeleteItemCommand', 'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand'],
  ],
};

export function sdkUseOf(entry: string, root = process.cwd()): SdkUse {
  const packages: SdkUse['packages'] = new Map();
  const seen = new Set<string>();
  const add = (pkg: string, names: string[]) => {
    const use = packages.get(pkg) ?? { clients: new Set<string>(), commands: new Set<string>() };
    for (const n of names) {
      if (n.endsWith('Command')) use.commands.add(n);
      else if (n.endsWith('Client')) use.clients.add(n);
    }
    packages.set(pkg, use);
  };
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      const [, typeOnly, list = '', from = ''] = m;
      if (typeOnly) continue;
      const names = list
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '' && !x.startsWith('type '))
        .map((x) => x.split(/\s+as\s+/)[0] as string);
      const library = LIBRARY_CALLS[from];
      if (library) add(library[0], library[1]);
      if (SDK.test(from)) add(from, names);
      else if (from.startsWith('.') && names.length > 0) {
        visit(resolve(dirname(file), `${from}.ts`));
      }
    }
  };
  visit(resolve(root, entry));
  // a client no command is sent with is dropped from the bundle (`@__PURE__`, shared/aws/clients.ts)
  for (const [pkg, use] of packages) if (use.commands.size === 0) packages.delete(pkg);
  return { packages };
}

/** The floor handler's source: every client created at module scope, every command sent by the handler. */
export function floorSource(use: SdkUse): string {
  const imports: string[] = [];
  const inits: string[] = [];
  const sends: string[] = [];
  let i = 0;
  const docCommands = use.packages.get('@aws-sdk/lib-dynamodb')?.commands ?? new Set<string>();
  for (const [pkg, { clients, commands }] of use.packages) {
    if (pkg === '@aws-sdk/lib-dynamodb') continue;
    const client = clientClassOf(pkg, clients);
    imports.push(`import { ${[client, ...commands].join(', ')} } from '${pkg}';`);
    const v = `c${i++}`;
    inits.push(`const ${v} = new ${client}({});`);
    for (const c of commands)
      sends.push(`  if (event.op === '${c}') return ${v}.send(new ${c}(event.input));`);
    if (pkg === '@aws-sdk/client-dynamodb' && docCommands.size > 0) {
      imports.push(
        `import { DynamoDBDocumentClient, ${[...docCommands].join(', ')} } from '@aws-sdk/lib-dynamodb';`,
      );
      inits.push(`const doc = DynamoDBDocumentClient.from(${v});`);
      for (const c of docCommands)
        sends.push(`  if (event.op === 'doc:${c}') return doc.send(new ${c}(event.input));`);
    }
  }
  return [
    ...imports,
    ...inits,
    'export const handler = async (event) => {',
    ...sends,
    '  return undefined;',
    '};',
    '',
  ].join('\n');
}

function clientClassOf(pkg: string, imported: Set<string>): string {
  const named = [...imported].find((c) => !c.startsWith('DynamoDBDocument'));
  if (named) return named;
  // e.g. @aws-sdk/client-ec2 -> EC2Client: read the package's own export rather than guess the casing
  const svc = pkg.replace('@aws-sdk/client-', '');
  const known: Record<string, string> = {
    'auto-scaling': 'AutoScalingClient',
    ec2: 'EC2Client',
    sqs: 'SQSClient',
    'secrets-manager': 'SecretsManagerClient',
    dynamodb: 'DynamoDBClient',
    eventbridge: 'EventBridgeClient',
    cloudtrail: 'CloudTrailClient',
    'route-53': 'Route53Client',
    'cloudwatch-logs': 'CloudWatchLogsClient',
  };
  const c = known[svc];
  if (!c) throw new Error(`no client class known for ${pkg}: add it to bench/bundle-floor.ts`);
  return c;
}
