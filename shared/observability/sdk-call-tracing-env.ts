/**
 * The switch of SDK-call tracing (an X-Ray subsegment per AWS SDK call, `./sdk-call-tracing.ts`).
 * FleetFunction's bundling replaces `process.env.<this>` with a constant (esbuild `define`), so the
 * bundle of a function without `sdkCallTracing` holds neither the Powertools tracer nor the X-Ray
 * SDK; outside a bundle (tests, the simulator) it is read from the environment and is off unless set.
 */
export const SDK_CALL_TRACING_ENV = 'FLEETWARDEN_SDK_CALL_TRACING';
