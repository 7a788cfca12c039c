// The plan's JSON Schema, generated from the zod schema (the single source of truth), so editors
// can validate and complete plans: YAML through `# yaml-language-server: $schema=…`, JSON through
// `"$schema"`. Committed as plan/plan.schema.json by `npx tsx scripts/gen-json-schema.ts`; a test
// fails when the committed file is stale. Semantic rules (ids, cycles, pools…) are not expressible
// in JSON Schema: `sparky validate` checks those.
import { z } from 'zod';
import * as S from './schema.ts';

// Named definitions make the file readable and editor hovers say what a thing is.
const NAMED: [z.ZodType, string][] = [
  [S.Duration, 'Duration'], [S.Estimate, 'Estimate'], [S.RetryPolicy, 'RetryPolicy'], [S.PinnedPool, 'PinnedPool'],
  [S.When, 'When'], [S.Outputs, 'Outputs'], [S.ShellStep, 'ShellStep'], [S.DockerStep, 'DockerStep'],
  [S.InferenceStep, 'InferenceStep'], [S.Compensation, 'Compensation'], [S.Step, 'Step'], [S.Workstream, 'Workstream'],
  [S.Domain, 'Domain'], [S.GateCheck, 'GateCheck'], [S.ApproverList, 'ApproverList'], [S.Approval, 'Approval'],
  [S.Gate, 'Gate'], [S.Phase, 'Phase'], [S.Defaults, 'Defaults'],
];

export const PLAN_SCHEMA_ID = 'https://sparky.dev/schemas/plan.schema.json';

export function planJsonSchema(): Record<string, unknown> {
  const metadata = z.registry<{ id: string }>();
  for (const [schema, id] of NAMED) metadata.add(schema, { id });
  const schema = z.toJSONSchema(S.Plan, { target: 'draft-2020-12', unrepresentable: 'any', metadata }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: PLAN_SCHEMA_ID,
    title: 'Sparky plan',
    description: 'A Sparky plan: phases → domains → workstreams → steps, with gates. See docs/plan-reference.md.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** The file's exact text (stable key order, two-space indent, trailing newline). */
export function planJsonSchemaText(): string {
  return `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
}
