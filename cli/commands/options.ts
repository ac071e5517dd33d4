import { ConfigError } from '../../shared/core/errors';
import type { CliDeps } from '../deps';

/** "2026-11-20", an ISO timestamp, or a relative age: 90m, 12h, 7d. */
export function parseSince(value: string, now: Date, flag = '--since'): Date {
  const relative = /^(\d+)([mhd])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new ConfigError(`${flag} ${JSON.stringify(value)} is not a date or an age like 90m, 12h, 7d`);
  return new Date(t);
}

export function regionFrom(option: string | undefined, deps: CliDeps): string {
  const region = option ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError('no AWS region: pass --region or set AWS_REGION');
  return region;
}

export function tableFrom(option: string | undefined, deps: CliDeps): string {
  const table = option ?? deps.env.FLEETWARDEN_AUDIT_TABLE;
  if (!table)
    throw new ConfigError(
      'no audit table: pass --table-name or set FLEETWARDEN_AUDIT_TABLE (stack output AuditTableName)',
    );
  return table;
}
