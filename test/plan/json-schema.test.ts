// The committed JSON Schema is what the zod schema generates today (regenerate with
// `npx tsx scripts/gen-json-schema.ts`), and it describes the plan the way the validator does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { planJsonSchema, planJsonSchemaText } from '../../plan/json-schema.ts';
import { PROJECT_ROOT } from '../../workers/paths.ts';

test('plan/plan.schema.json is up to date with plan/schema.ts', async () => {
  const committed = await readFile(path.join(PROJECT_ROOT, 'plan', 'plan.schema.json'), 'utf8');
  assert.ok(committed === planJsonSchemaText(), 'plan/plan.schema.json is stale: run npx tsx scripts/gen-json-schema.ts and commit it');
});

test('the JSON Schema names the plan\'s parts and is strict like the validator', () => {
  const schema = planJsonSchema() as { required: string[]; additionalProperties: boolean; $defs: Record<string, { oneOf?: unknown[] }> };
  assert.deepEqual(schema.required.sort(), ['name', 'phases']);
  assert.equal(schema.additionalProperties, false);
  for (const name of ['Phase', 'Domain', 'Workstream', 'Step', 'Gate', 'GateCheck', 'Approval', 'Duration', 'Estimate', 'When']) {
    assert.ok(name in schema.$defs, `$defs.${name}`);
  }
  assert.equal(schema.$defs.Step.oneOf?.length, 3);
});
