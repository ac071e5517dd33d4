import { describeCloudTrailLookupContract } from './cloudtrail-lookup.contract';
import { InMemoryCloudTrail } from './in-memory-cloudtrail';

describeCloudTrailLookupContract('InMemoryCloudTrail', (clock) => {
  const trail = new InMemoryCloudTrail(clock);
  return {
    lookup: trail,
    deliver: (e, delayMs) => trail.deliver(e, delayMs === undefined ? {} : { delayMs }),
  };
});
