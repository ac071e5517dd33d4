import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { defaultDynamoDbClient } from '../../shared/aws/clients';
import { ungatedLambdaHandler } from '../../shared/kernel/lambda-handler';
import { EventBridgePublisher } from '../../shared/webhook/publisher';
import { cachedWebhookSecrets } from '../../shared/webhook/secret';
import { webhookIngress } from './definition';

/** The Lambda entry: webhook-ingress with its real adapters. */
export const handler = ungatedLambdaHandler(webhookIngress, (settings) => ({
  webhookSecret: cachedWebhookSecrets(settings.secretCacheSeconds),
  eventBus: new EventBridgePublisher(settings.eventBusName),
  idempotency: new DynamoDBPersistenceLayer({
    tableName: settings.idempotencyTable,
    awsSdkV3Client: defaultDynamoDbClient(),
  }),
}));
