import { describeAuditSinkContract } from './audit-sink.contract';
import { describeAuditStoreContract } from './audit-store.contract';
import { InMemoryAuditStore } from './in-memory-audit-store';

describeAuditStoreContract('InMemoryAuditStore', () => {
  const store = new InMemoryAuditStore();
  return { sink: store.sink, store };
});

describeAuditSinkContract('InMemoryAuditSink', () => {
  const store = new InMemoryAuditStore();
  return { sink: store.sink, store };
});
