// Regenerates plan/plan.schema.json from the zod plan schema: run after changing plan/schema.ts
// (test/plan/json-schema.test.ts fails while the committed file is stale).
//   npx tsx scripts/gen-json-schema.ts [--check]
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { planJsonSchemaText } from '../plan/json-schema.ts';
import { PROJECT_ROOT } from '../host/paths.ts';

const file = path.join(PROJECT_ROOT, 'plan', 'plan.schema.json');
const text = planJsonSchemaText();
if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${path.relative(PROJECT_ROOT, file)} is stale: run npx tsx scripts/gen-json-schema.ts`);
    process.exitCode = 1;
  } else console.log(`${path.relative(PROJECT_ROOT, file)} is up to date`);
} else {
  await writeFile(file, text);
  console.log(`wrote ${path.relative(PROJECT_ROOT, file)} (${text.length} bytes)`);
}
