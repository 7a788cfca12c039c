// The plan's JSON Schema, generated from the zod schema (the single source of truth), so editors
// can validate and complete plans: YAML through `# yaml-language-server: $schema=…`, JSON through
// `"$schema"`. Committed as plan/plan.schema.json by `npx tsx scripts/gen-json-schema.ts`; a test
// fails when the committed file is stale. Semantic rules (ids, cycles, pools…) are not expressible
// in JSON Schema: `sparky validate` checks those.
import { z } from 'zod';
import * as S from './schema.ts';

const orList = (names: string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`);

// Named definitions make the file readable; descriptions are what an editor shows on hover.
const NAMED: [z.ZodType, string, string][] = [
  [S.Duration, 'Duration', 'A duration: a number and a unit (ms, s, m, h, d), combinable: 30s, 20m, 4h, 3d, 1h30m.'],
  [S.Estimate, 'Estimate', 'How long the workstream takes: 3d, or a range 3-4d (one unit, after the upper bound).'],
  [S.RetryPolicy, 'RetryPolicy', 'Temporal retry policy for a step (durations as strings).'],
  [S.PinnedPool, 'PinnedPool', 'One GPU: task queue sparky-gpu-<host>-<gpu>.'],
  [S.When, 'When', 'Run the step only if every condition holds; otherwise it is skipped with the reason.'],
  [S.Outputs, 'Outputs', 'Where the step\'s outputs come from; use them as ${{ outputs.<workstream>.<step>.<key> }}.'],
  ...Object.values(S.STEP_KINDS).map((k): [z.ZodType, string, string] => [k.schema, k.json.id, k.json.description]),
  [S.GitFlow, 'GitFlow', 'A branch per workstream: worktrees of repo on branch, merged into base when the phase gate is approved.'],
  [S.Compensation, 'Compensation', 'A step that undoes this one, run newest first when a phase fails or a gate is rejected.'],
  [S.Step, 'Step', `One step of a workstream: kind ${orList(Object.keys(S.STEP_KINDS))}.`],
  [S.Workstream, 'Workstream', 'A sequence of steps; starts when every workstream in dependsOn has finished.'],
  [S.Domain, 'Domain', 'A group of workstreams run by one child workflow, at most maxParallel at once.'],
  [S.GateCheck, 'GateCheck', 'A gate check: command exits 0, file exists (JSON field), metric from outputs, or HTTP answers.'],
  [S.KeyLine, 'KeyLine', 'An OpenSSH ed25519 public key line (ssh-ed25519 AAAA… comment, the content of ~/.ssh/id_ed25519.pub) or a passkey (webauthn AAAA… comment, printed by the Sparky board when it is registered).'],
  [S.Approver, 'Approver', 'A name, or {name, key}: decisions in this name must then be signed with the key (ssh-keygen -Y sign -n sparky-gate, or the passkey on the Sparky board).'],
  [S.EnvRef, 'EnvRef', 'A secret by reference: the environment variable on the worker that holds it.'],
  [S.Webhook, 'Webhook', 'A webhook told about gates and the run: url or urlFromEnv, format json or slack, events.'],
  [S.Notify, 'Notify', 'Who hears about gates waiting, escalated, decided, a run that needs attention, and its end.'],
  [S.ApproverList, 'ApproverList', 'Who may approve, and how many approvals are required.'],
  [S.Approval, 'Approval', 'People who must approve the gate; onTimeout: reject (default), approve or escalate.'],
  [S.Gate, 'Gate', 'Ends a phase: checks must pass and the approval be given before the next phase starts.'],
  [S.Phase, 'Phase', 'Phases run in order; the domains of a phase run side by side.'],
  [S.Defaults, 'Defaults', 'Defaults for every step (timeout, retry, pool) and domain (maxParallel).'],
];

export const PLAN_SCHEMA_ID = 'https://sparky.dev/schemas/plan.schema.json';

export function planJsonSchema(): Record<string, unknown> {
  const metadata = z.registry<{ id: string; description: string }>();
  for (const [schema, id, description] of NAMED) metadata.add(schema, { id, description });
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
