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
import {
  type ListPage,
  type ListStart,
  type RecordChange,
  type RecordSet,
  ROUTE53_LIST_PAGE_MAX,
  type Route53Port,
} from './port';

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
  // alias and routing-policy sets are never fleetwarden's (the planner checks both fields)
  if (r.AliasTarget) out.alias = true;
  if (r.SetIdentifier !== undefined) out.setIdentifier = r.SetIdentifier;
  if (r.Weight !== undefined) out.weight = r.Weight;
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

  /** One ListResourceRecordSets call from `start` (StartRecordName/Type/Identifier), MaxItems `maxItems`. */
  async listPage(zoneId: string, start?: ListStart, maxItems = ROUTE53_LIST_PAGE_MAX): Promise<ListPage> {
    let page: ListResourceRecordSetsCommandOutput;
    try {
      page = await this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          MaxItems: Math.min(Math.max(1, maxItems), ROUTE53_LIST_PAGE_MAX),
          ...(start ? { StartRecordName: start.name } : {}),
          ...(start?.type !== undefined ? { StartRecordType: start.type as RRType } : {}),
          ...(start?.identifier !== undefined ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      );
    } catch (err) {
      throw mapError(err, `ListResourceRecordSets ${zoneId}`);
    }
    const records = (page.ResourceRecordSets ?? []).map(toRecordSet);
    if (!page.IsTruncated || !page.NextRecordName) return { records };
    return {
      records,
      next: {
        name: decodeName(page.NextRecordName),
        type: page.NextRecordType ?? '',
        ...(page.NextRecordIdentifier !== undefined ? { identifier: page.NextRecordIdentifier } : {}),
      },
    };
  }

  /**
   * Every page: a page can end inside a group of routing-policy sets sharing a name and type, so
   * the next one starts at NextRecordName + NextRecordType + NextRecordIdentifier (without the
   * identifier Route 53 lists the group again from its start, for ever). A page that would start
   * where the previous one did fails the listing instead of looping.
   */
  async listRecordSets(zoneId: string): Promise<RecordSet[]> {
    const out: RecordSet[] = [];
    const seen = new Set<string>();
    let start: { name: string; type: RRType | undefined; id: string | undefined } | undefined;
    do {
      let page: ListResourceRecordSetsCommandOutput;
      try {
        page = await this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            MaxItems: 300,
            ...(start ? { StartRecordName: start.name, StartRecordType: start.type } : {}),
            ...(start?.id !== undefined ? { StartRecordIdentifier: start.id } : {}),
          }),
        );
      } catch (err) {
        throw mapError(err, `ListResourceRecordSets ${zoneId}`);
      }
      out.push(...(page.ResourceRecordSets ?? []).map(toRecordSet));
      start =
        page.IsTruncated && page.NextRecordName
          ? { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier }
          : undefined;
      const at = start && `${start.name}|${start.type ?? ''}|${start.id ?? ''}`;
      if (at !== undefined && seen.has(at)) {
        throw new Route53Error(
          `ListResourceRecordSets ${zoneId}: the page at ${at} was listed already; not looping`,
        );
      }
      if (at !== undefined) seen.add(at);
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
                ...(c.record.setIdentifier !== undefined ? { SetIdentifier: c.record.setIdentifier } : {}),
                ...(c.record.weight !== undefined ? { Weight: c.record.weight } : {}),
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
