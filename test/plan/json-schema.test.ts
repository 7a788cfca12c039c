// The committed JSON Schema is what the zod schema generates today (regenerate with
// `npx tsx scripts/gen-json-schema.ts`), and it describes the plan the way the validator does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { planJsonSchema, planJsonSchemaText } from '../../plan/json-schema.ts';
import { existsSync } from 'node:fs';
import { PROJECT_ROOT, VENV_PYTHON } from '../../host/paths.ts';

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
  assert.equal(schema.$defs.Step.oneOf?.length, 5);
});

// jsonschema comes with the project's virtualenv (inference/requirements.txt, installed by scripts/setup).
test('a standard JSON Schema validator (python jsonschema, draft 2020-12) accepts the examples and rejects a broken plan', async (t) => {
  if (!existsSync(VENV_PYTHON)) { t.skip('run `npm run setup` first: the Python venv (.tools/venv) is missing'); return; }
  const examples = [
    parse(await readFile(path.join(PROJECT_ROOT, 'examples', 'dgx-pixels.plan.yaml'), 'utf8')),
    JSON.parse(await readFile(path.join(PROJECT_ROOT, 'examples', 'hello.plan.json'), 'utf8')),
    parse(await readFile(path.join(PROJECT_ROOT, 'examples', 'agent-workstreams.plan.yaml'), 'utf8')),
    { name: 'x', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', estimat: '3d', steps: [{ id: 's', kind: 'shell', run: [] }] }] }] }] },
  ];
  const script = [
    'import json, sys, jsonschema',
    'schema = json.load(open(sys.argv[1]))',
    'validator = jsonschema.Draft202012Validator(schema)',
    'for doc in json.load(sys.stdin):',
    '    print(json.dumps(sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc))))',
  ].join('\n');
  const run = await execa(VENV_PYTHON, ['-c', script, path.join(PROJECT_ROOT, 'plan', 'plan.schema.json')], { input: JSON.stringify(examples) });
  const [dgx, hello, agents, broken] = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as string[]);
  assert.deepEqual(dgx, []);
  assert.deepEqual(hello, []);
  assert.deepEqual(agents, []);
  assert.ok(broken.length > 0, 'the broken plan passed the JSON Schema');
});
