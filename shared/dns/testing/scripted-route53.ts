import {
  type Change,
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  type Route53Client,
  Route53ServiceException,
  type RRType,
} from '@aws-sdk/client-route-53';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { InvalidChangeBatchError, Route53BusyError, Route53Error } from '../errors';
import type { InMemoryRoute53 } from '../in-memory-route53';

/**
 * Scripts a Route 53 SDK stub so ListResourceRecordSets / ChangeResourceRecordSets answer like the
 * API (wire shapes from the API reference: IsTruncated/NextRecordName/NextRecordType/NextRecordIdentifier paging,
 * ChangeInfo, InvalidChangeBatch with `messages`, Throttling "Rate exceeded", PriorRequestNotComplete),
 * backed by an InMemoryRoute53.
 */
export function scriptRoute53(stub: AwsClientStub<Route53Client>, fake: InMemoryRoute53): void {
  let requestNo = 0;
  const meta = () => ({ httpStatusCode: 200, requestId: `r53-req-${++requestNo}` });
  const wireError = (err: unknown): unknown => {
    const $metadata = { httpStatusCode: 400, requestId: `r53-req-${++requestNo}` };
    if (err instanceof InvalidChangeBatchError) {
      const messages = err.problems.map((p) => p.message);
      return new InvalidChangeBatch({ message: `[${messages.join(', ')}]`, messages, $metadata });
    }
    if (err instanceof Route53BusyError && err.code === 'PriorRequestNotComplete') {
      return new PriorRequestNotComplete({ message: err.message, $metadata });
    }
    if (err instanceof Route53BusyError) {
      return new Route53ServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: err.message,
        $metadata,
      });
    }
    if (err instanceof Route53Error && err.message.startsWith('NoSuchHostedZone')) {
      return new NoSuchHostedZone({ message: err.message.replace('NoSuchHostedZone: ', ''), $metadata });
    }
    return err;
  };
  const zoneOf = (id: string | undefined) => (id ?? '').replace(/^\/hostedzone\//, '');

  stub.on(ListResourceRecordSetsCommand).callsFake(async (input) => {
    try {
      const page = await fake.listPage(
        zoneOf(input.HostedZoneId),
        input.StartRecordName
          ? {
              name: input.StartRecordName,
              type: input.StartRecordType,
              identifier: input.StartRecordIdentifier,
            }
          : undefined,
        input.MaxItems ?? 300,
      );
      return {
        $metadata: meta(),
        ResourceRecordSets: page.records.map((r) => ({
          Name: r.name.replace(/\*/g, '\\052'),
          Type: r.type as RRType,
          TTL: r.ttl,
          ResourceRecords: r.values.map((Value) => ({ Value })),
          ...(r.setIdentifier !== undefined ? { SetIdentifier: r.setIdentifier } : {}),
          ...(r.weight !== undefined ? { Weight: r.weight } : {}),
        })),
        IsTruncated: page.next !== undefined,
        MaxItems: input.MaxItems ?? 300,
        ...(page.next ? { NextRecordName: page.next.name, NextRecordType: page.next.type as RRType } : {}),
        ...(page.next?.identifier !== undefined ? { NextRecordIdentifier: page.next.identifier } : {}),
      };
    } catch (err) {
      throw wireError(err);
    }
  });

  stub.on(ChangeResourceRecordSetsCommand).callsFake(async (input: ChangeResourceRecordSetsCommandInput) => {
    try {
      const { changeId } = await fake.changeRecordSets(
        zoneOf(input.HostedZoneId),
        (input.ChangeBatch?.Changes ?? []).map((c: Change) => ({
          action: c.Action as 'CREATE' | 'DELETE' | 'UPSERT',
          record: {
            name: c.ResourceRecordSet?.Name ?? '',
            type: c.ResourceRecordSet?.Type ?? '',
            ttl: c.ResourceRecordSet?.TTL,
            values: (c.ResourceRecordSet?.ResourceRecords ?? []).map((r) => r.Value ?? ''),
            ...(c.ResourceRecordSet?.SetIdentifier !== undefined
              ? { setIdentifier: c.ResourceRecordSet.SetIdentifier }
              : {}),
            ...(c.ResourceRecordSet?.Weight !== undefined ? { weight: c.ResourceRecordSet.Weight } : {}),
          },
        })),
      );
      return {
        $metadata: meta(),
        ChangeInfo: {
          Id: changeId,
          Status: 'PENDING',
          SubmittedAt: new Date(),
          Comment: input.ChangeBatch?.Comment,
        },
      };
    } catch (err) {
      throw wireError(err);
    }
  });
}
