import type { Command } from 'commander';
import { ConfigError, FleetwardenError } from '../../shared/core/errors';
import type { PostureReport } from '../../shared/posture/finding';
import { diffPosture, parseBaseline, renderJson, renderMarkdown } from '../../shared/posture/report';
import { scanPosture } from '../../shared/posture/scanner';
import { regionFrom } from '../commands/options';
import type { CliDeps } from '../deps';
import { EXIT, isCredentialError } from '../errors';
import { setExitCode } from '../program';

export interface PostureOptions {
  region?: string[];
  format: string;
  out?: string;
  baseline?: string;
  tableName?: string;
  tableRegion?: string;
  stackName: string;
  failOnGaps?: boolean;
}

/** `fleetwarden posture`: scan, print or write the report, compare with a baseline. */
export async function posture(opts: PostureOptions, program: Command, deps: CliDeps): Promise<void> {
  if (!['markdown', 'json'].includes(opts.format)) {
    throw new ConfigError(`--format ${JSON.stringify(opts.format)} is not markdown or json`);
  }
  const baseline = opts.baseline
    ? parseBaseline(await readBaseline(opts.baseline, deps), opts.baseline)
    : undefined;
  const { report, errors } = await scan(opts, deps);
  const diff = baseline ? diffPosture(baseline, report) : undefined;
  const text = opts.format === 'json' ? renderJson(report, diff) : renderMarkdown(report, diff);
  if (opts.out) {
    await deps.writeFile(opts.out, text);
    deps.stderr.write(`posture: report written to ${opts.out}\n`);
  } else {
    deps.stdout.write(text);
  }
  const gaps = report.findings.filter((f) => f.status === 'gap').length;
  deps.stderr.write(
    `posture: ${report.findings.length} resources, ${gaps} gaps` +
      (diff ? `, ${diff.closed.length} closed since baseline` : '') +
      (diff && diff.notChecked.length > 0 ? `, ${diff.notChecked.length} baseline gaps not checked` : '') +
      '\n',
  );
  if (opts.failOnGaps && gaps > 0) setExitCode(program, EXIT.failure);
  // an incomplete report is never a clean one; rejected credentials say so whatever else happened
  if (errors.length > 0)
    setExitCode(program, errors.some(isCredentialError) ? EXIT.noCredentials : EXIT.incomplete);
}

/**
 * The posture scan of the command, without printing it (progress and "not checked" lines go to
 * deps.stderr): what `fleetwarden mcp` answers too. Failed checks are in `report.failures`.
 */
export async function postureReport(
  opts: Pick<PostureOptions, 'region' | 'tableName' | 'tableRegion' | 'stackName'>,
  deps: CliDeps,
): Promise<PostureReport> {
  return (await scan(opts, deps)).report;
}

async function scan(
  opts: Pick<PostureOptions, 'region' | 'tableName' | 'tableRegion' | 'stackName'>,
  deps: CliDeps,
): Promise<{ report: PostureReport; errors: unknown[] }> {
  const regions = opts.region && opts.region.length > 0 ? opts.region : [regionFrom(undefined, deps)];
  const tableName = opts.tableName ?? deps.env.FLEETWARDEN_AUDIT_TABLE;
  const errors: unknown[] = [];
  const report = await scanPosture({
    regions,
    stackPrefix: opts.stackName,
    ...(tableName ? { tableName } : {}),
    // the table lives in the stack's region, whichever regions are scanned
    tableRegion:
      opts.tableRegion ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION ?? (regions[0] as string),
    clients: await deps.aws(),
    now: () => new Date(deps.clock.now()),
    onProgress: (m) => deps.stderr.write(`posture: ${m}\n`),
    onFailure: (f, error) => {
      errors.push(error);
      deps.stderr.write(
        `posture: not checked: ${f.check} in ${f.region}: ${f.operation} failed\n${f.causes.map((c) => `  caused by: ${c}\n`).join('')}`,
      );
    },
  });
  // nothing at all could be read (no credentials, every call refused): that is the error
  if (report.calls.length === 0 && errors.length > 0)
    throw new PostureScanError('posture scan read nothing', { cause: errors[0] });
  if (!tableName)
    deps.stderr.write(
      'posture: audit table not checked (pass --table-name or set FLEETWARDEN_AUDIT_TABLE)\n',
    );
  return { report, errors };
}

/** Every check in every region failed: nothing to report (the cause says why). */
class PostureScanError extends FleetwardenError {
  override readonly name: string = 'PostureScanError';
}

async function readBaseline(path: string, deps: CliDeps): Promise<string> {
  try {
    return await deps.readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read baseline ${path}: ${(err as Error).message}`, { cause: err });
  }
}
