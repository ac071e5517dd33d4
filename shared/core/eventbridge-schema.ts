import './zod-locale';
import * as z from 'zod/mini';
import { isoDateTime } from './zod-parts';

/**
 * The EventBridge envelope, field for field Powertools parser's `EventBridgeSchema`
 * (`@aws-lambda-powertools/parser/schemas/eventbridge`), which imports `{ z } from 'zod'`: that form
 * keeps zod's whole namespace in an esbuild bundle, 258 KB of it error-message locales. Declared
 * here with zod/mini, whose schemas esbuild shakes (bench/bundles.test.ts checks the bundles).
 * Powertools' `parse` takes it (it reads any Standard Schema).
 */
export const EventBridgeSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: isoDateTime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.optional(z.string()),
});
