import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { defaultRoute53Client } from '../aws/clients';
import { InvalidChangeBatchError, Route53BusyError, Route53Error } from './errors';
import { normalizeName } from './names';
import type { RecordChange, RecordSet, Route53Port } from './port';

const THROTTLING = new Set(['Throttling', 'ThrottlingException']);

/** Route 53 returns characters outside [a-z0-9-_.] as \ooo octal escapes (e.g. \052 for *). */
function decodeName(name: string): string {
  return normalizeName(
    name.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))),
  );
}

function toRecordSet(r: ResourceRecordSet): RecordSet {
  const out: RecordSet = {
    name: decodeName(r.Name ?? ''),
    type: r.Type ?? '',
    ...(r.TTL !== undefined ? { ttl: r.TTL } : {}),
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''),
  };
  // alias and routing-policy sets are never fleetwarden's; flag them so they are never taken for ours
  if (r.AliasTarget || r.SetIdentifier) out.alias = true;
  return out;
}

function mapError(err: unknown, what: string): Error {
  const name = (err as Error)?.name;
  const message = (err as Error)?.message ?? String(err);
  if (THROTTLING.has(name)) return new Route53BusyError('Throttling', `${what}: ${message}`, { cause: err });
  if (name === 'PriorRequestNotComplete') {
    return new Route53BusyError('PriorRequestNotComplete', `${what}: ${message}`, { cause: err });
  }
  if (name === 'InvalidChangeBatch') {
    const messages = (err as { messages?: string[] }).messages;
    return new InvalidChangeBatchError(messages && messages.length > 0 ? messages : [message], {
      cause: err,
    });
  }
  return new Route53Error(`${what} failed: ${name}: ${message}`, { cause: err });
}

/** Route 53 (ListResourceRecordSets, ChangeResourceRecordSets) behind the Route53Port. */
export class Route53ZoneAdapter implements Route53Port {
  constructor(private readonly client: Route53Client = defaultRoute53Client()) {}

  async listRecordSets(zoneId: string): Promise<RecordSet[]> {
    const out: RecordSet[] = [];
    let start: { name: string; type: RRType | undefined } | undefined;
    do {
      let page: ListResourceRecordSetsCommandOutput;
      try {
        page = await this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            MaxItems: 300,
            ...(start ? { StartRecordName: start.name, StartRecordType: start.type } : {}),
          }),
        );
      } catch (err) {
        throw mapError(err, `ListResourceRecordSets ${zoneId}`);
      }
      out.push(...(page.ResourceRecordSets ?? []).map(toRecordSet));
      start =
        page.IsTruncated && page.NextRecordName
          ? { name: page.NextRecordName, type: page.NextRecordType }
          : undefined;
    } while (start);
    return out;
  }

  async changeRecordSets(
    zoneId: string,
    changes: readonly RecordChange[],
    comment?: string,
  ): Promise<{ changeId: string }> {
    try {
      const out = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            ...(comment ? { Comment: comment } : {}),
            Changes: changes.map((c) => ({
              Action: c.action,
              ResourceRecordSet: {
                Name: c.record.name,
                Type: c.record.type as RRType,
                TTL: c.record.ttl,
                ResourceRecords: c.record.values.map((Value) => ({ Value })),
              },
            })),
          },
        }),
      );
      return { changeId: out.ChangeInfo?.Id ?? 'unknown' };
    } catch (err) {
      throw mapError(err, `ChangeResourceRecordSets ${zoneId}`);
    }
  }
}
