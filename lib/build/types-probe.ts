/**
 * Written into the consumer's copy by test:package: fails the consumer's type-check when the shipped
 * declarations do not resolve (under NodeNext, unresolved imports turn the types into `any`, and an
 * `any` makes the expected errors below go missing).
 */
export const TYPES_PROBE = `import type { Fleetwarden, FleetwardenProps } from 'fleetwarden';

// @ts-expect-error zoneName is required
export const missingZone: FleetwardenProps = { hostedZoneId: 'Z0123456789EXAMPLE' };
// @ts-expect-error recordTtl is a number of seconds
export const wrongTtl: FleetwardenProps = { hostedZoneId: 'Z0', zoneName: 'a.example.com', recordTtl: '60' };
// @ts-expect-error the validated config's dryRun is a boolean
export const dryRun: Fleetwarden['config']['dryRun'] = 'yes';
// @ts-expect-error the fleet's DNS sync construct has its queue, not a made-up member
export const queue: Fleetwarden['dns']['noSuchMember'] = undefined;
`;
