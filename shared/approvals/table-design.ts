/**
 * The approvals tables' layout, shared by the DynamoDB adapters and the Approvals construct (infra),
 * so they cannot drift.
 *
 * Proposals: one item per proposal, the Proposal object marshalled (undefined fields removed),
 * partition key `id`.
 * - `byKey`    GSI: `key` + `createdAt` (ALL) -> every proposal about one subject/run, newest first
 * - `byStatus` GSI: `status` + `createdAt` (ALL) -> the open ones (CLI, the expiry sweep)
 *
 * Decisions: one item per (proposal, approver): partition key `proposalId`, sort key `approver`
 * (the decision's `approver.arn`), and `decision` holding the whole Decision object (a map).
 * Written only under the Approver role, once (attribute_not_exists).
 */
export const PROPOSALS_TABLE = {
  partitionKey: 'id',
  indexes: {
    byKey: { name: 'byKey', partitionKey: 'key', sortKey: 'createdAt' },
    byStatus: { name: 'byStatus', partitionKey: 'status', sortKey: 'createdAt' },
  },
} as const;

export const DECISIONS_TABLE = {
  partitionKey: 'proposalId',
  sortKey: 'approver',
  decisionAttribute: 'decision',
} as const;
