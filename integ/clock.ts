/**
 * Context key integration apps read for "now" (an ISO time). The offline snapshot sets a fixed
 * value so time-dependent inputs (a signed webhook delivery's job time) keep the template stable;
 * `integ:deploy` leaves it unset, so the real clock is used.
 */
export const INTEG_CLOCK_CONTEXT = 'fleetwarden:integ-clock';
