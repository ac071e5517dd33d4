/**
 * SDK-call tracing: every AWS SDK client handed to the Powertools tracer, which adds an X-Ray
 * subsegment per call (service, operation, latency, throttling) to the invocation's trace. An opt-in
 * (FleetFunction `sdkCallTracing`, default off): it costs ~125 KB of bundle (aws-xray-sdk-core,
 * cls-hooked, semver, the tracer) and 39-114 ms of module init CPU. Off, the function is still traced by Lambda
 * ACTIVE tracing (init, duration, errors of each sampled invocation), and the per-call evidence is in
 * the audit records (every SDK call with its request id) and their CloudTrail correlation.
 *
 * The condition below must read `process.env.FLEETWARDEN_SDK_CALL_TRACING` literally
 * (`SDK_CALL_TRACING_ENV`): FleetFunction's bundling defines that expression as a constant, so when
 * it is off esbuild removes the dynamic import and everything it would bring (bench/bundles.test.ts).
 */
const enabled = process.env.FLEETWARDEN_SDK_CALL_TRACING === 'true';
const tracer = enabled ? (await import('./tracer')).tracer : undefined;

/** `client`, handed to the X-Ray tracer when SDK-call tracing is on (the same client otherwise). */
export function traceSdkCalls<C extends object>(client: C): C {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
