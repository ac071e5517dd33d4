/**
 * The approvals contract suites against real DynamoDB tables. Runs only when
 * FLEETWARDEN_LIVE_PROPOSALS_TABLE and FLEETWARDEN_LIVE_DECISIONS_TABLE are set (see LIVE_HOW_TO).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe } from 'vitest';
import { DynamoDbDecisionStore } from './dynamodb-decision-store';
import { DynamoDbProposalStore } from './dynamodb-proposal-store';
import { describeDecisionStoreContract } from './testing/decision-store.contract';
import { describeProposalStoreContract } from './testing/proposal-store.contract';

const PROPOSALS_VAR = 'FLEETWARDEN_LIVE_PROPOSALS_TABLE';
const DECISIONS_VAR = 'FLEETWARDEN_LIVE_DECISIONS_TABLE';
const proposalsTable = process.env[PROPOSALS_VAR];
const decisionsTable = process.env[DECISIONS_VAR];

const LIVE_HOW_TO =
  `SKIPPED: live approvals tables contract run (${PROPOSALS_VAR} / ${DECISIONS_VAR} not set). To run it: ` +
  'create two throwaway tables with the layout of shared/approvals/table-design.ts, e.g. ' +
  '`aws dynamodb create-table --table-name fw-live-proposals --billing-mode PAY_PER_REQUEST ' +
  '--attribute-definitions AttributeName=id,AttributeType=S AttributeName=key,AttributeType=S ' +
  'AttributeName=status,AttributeType=S AttributeName=createdAt,AttributeType=S ' +
  '--key-schema AttributeName=id,KeyType=HASH --global-secondary-indexes ' +
  '"IndexName=byKey,KeySchema=[{AttributeName=key,KeyType=HASH},{AttributeName=createdAt,KeyType=RANGE}],Projection={ProjectionType=ALL}" ' +
  '"IndexName=byStatus,KeySchema=[{AttributeName=status,KeyType=HASH},{AttributeName=createdAt,KeyType=RANGE}],Projection={ProjectionType=ALL}"` and ' +
  '`aws dynamodb create-table --table-name fw-live-decisions --billing-mode PAY_PER_REQUEST ' +
  '--attribute-definitions AttributeName=proposalId,AttributeType=S AttributeName=approver,AttributeType=S ' +
  '--key-schema AttributeName=proposalId,KeyType=HASH AttributeName=approver,KeyType=RANGE`, then run ' +
  `\`${PROPOSALS_VAR}=fw-live-proposals ${DECISIONS_VAR}=fw-live-decisions npx vitest run shared/approvals/dynamodb-stores.live.test.ts\` ` +
  'with AWS credentials from the default chain allowed GetItem, PutItem, UpdateItem and Query on both. ' +
  'Each test writes items under its own random function name and leaves them (nothing deletes proposals); ' +
  'the GSIs are eventually consistent, so a rare index lag can fail an ordering test: run it again.';

if (!proposalsTable || !decisionsTable) console.info(LIVE_HOW_TO);

describe.skipIf(!proposalsTable || !decisionsTable)(
  `live approvals tables (runs only with ${PROPOSALS_VAR} and ${DECISIONS_VAR} set)`,
  () => {
    const client = new DynamoDBClient({});
    describeProposalStoreContract(
      'DynamoDbProposalStore (live DynamoDB)',
      () => new DynamoDbProposalStore({ tableName: proposalsTable ?? '', client }),
    );
    describeDecisionStoreContract(
      'DynamoDbDecisionStore (live DynamoDB)',
      () => new DynamoDbDecisionStore({ tableName: decisionsTable ?? '', client }),
    );
  },
);
