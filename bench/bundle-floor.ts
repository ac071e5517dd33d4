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
  /**
   * The GitHub client's packages the function's code imports (Octokit, its plugins, App auth). The
   * GitHub REST client is the SDK of the GitHub calls a runner function makes: a floor that sends
   * those requests needs it as much as it needs Route53Client for Route 53's.
   */
  github: Set<string>;
}

const SDK = /^@aws-sdk\/(client-[\w-]+|lib-dynamodb)$/;
/** The packages that make up the GitHub REST client (not webhook verification: that is no client). */
const GITHUB_CLIENT = /^@octokit\/(core|auth-app|plugin-[\w-]+)$/;

/** SDK calls a library makes for the function (its persistence layer), by the import that brings it. */
const LIBRARY_CALLS: Record<string, [string, string[]]> = {
  '@aws-lambda-powertools/idempotency/dynamodb': [
    '@aws-sdk/client-dynamodb',
    ['DeleteItemCommand', 'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand'],
  ],
};

export function sdkUseOf(entry: string, root = process.cwd()): SdkUse {
  const packages: SdkUse['packages'] = new Map();
  const github = new Set<string>();
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
      else if (GITHUB_CLIENT.test(from)) github.add(from);
      else if (from.startsWith('.') && names.length > 0) {
        visit(resolve(dirname(file), `${from}.ts`));
      }
    }
  };
  visit(resolve(root, entry));
  // a client no command is sent with is dropped from the bundle (`@__PURE__`, shared/aws/clients.ts)
  for (const [pkg, use] of packages) if (use.commands.size === 0) packages.delete(pkg);
  return { packages, github };
}

/** The floor's GitHub client: Octokit with the same plugins, authenticated as the App installation. */
const GITHUB_PLUGINS: Record<string, string> = {
  '@octokit/plugin-paginate-rest': 'paginateRest',
  '@octokit/plugin-retry': 'retry',
  '@octokit/plugin-throttling': 'throttling',
};

function githubFloor(github: Set<string>): { imports: string[]; inits: string[]; sends: string[] } {
  if (!github.has('@octokit/core')) return { imports: [], inits: [], sends: [] };
  const plugins = Object.entries(GITHUB_PLUGINS).filter(([pkg]) => github.has(pkg));
  const unknown = [...github].filter(
    (p) => !['@octokit/core', '@octokit/auth-app', ...Object.keys(GITHUB_PLUGINS)].includes(p),
  );
  if (unknown.length > 0)
    throw new Error(`no floor known for ${unknown.join(', ')}: add it to bench/bundle-floor.ts`);
  const imports = [
    "import { Octokit } from '@octokit/core';",
    ...plugins.map(([pkg, name]) => `import { ${name} } from '${pkg}';`),
    ...(github.has('@octokit/auth-app') ? ["import { createAppAuth } from '@octokit/auth-app';"] : []),
  ];
  const cls = plugins.length > 0 ? `Octokit.plugin(${plugins.map(([, n]) => n).join(', ')})` : 'Octokit';
  const auth = github.has('@octokit/auth-app') ? 'authStrategy: createAppAuth, auth: event.auth, ' : '';
  const throttle = github.has('@octokit/plugin-throttling')
    ? 'throttle: { onRateLimit: () => false, onSecondaryRateLimit: () => false } '
    : '';
  return {
    imports,
    inits: [`const GitHub = ${cls};`, 'let gh;'],
    sends: [
      `  if (event.op === 'github') return (gh ??= new GitHub({ ${auth}${throttle}})).request(event.route, event.params);`,
    ],
  };
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
  const gh = githubFloor(use.github);
  return [
    ...imports,
    ...gh.imports,
    ...inits,
    ...gh.inits,
    'export const handler = async (event) => {',
    ...sends,
    ...gh.sends,
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
