/**
 * `npm run docs`: writes docs/remediations.md from the registered definitions (functions/registry.ts).
 * infra/remediations-doc.test.ts fails when the file is not what the definitions say.
 */
import { writeFileSync } from 'node:fs';
import { REMEDIATIONS } from '../functions/registry';
import { remediationsDoc } from '../shared/kernel/docs';

const target = new URL('../docs/remediations.md', import.meta.url);
writeFileSync(target, remediationsDoc(REMEDIATIONS));
console.log(`wrote docs/remediations.md (${REMEDIATIONS.length} remediations)`);
