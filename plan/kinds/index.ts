// The step kinds, registered here and nowhere else: STEP_SCHEMAS makes the plan schema's step union,
// and STEP_KINDS (typed over that union's `kind` names) must hold a complete definition for each, so
// a kind added to one and not the other, or missing a piece, fails `tsc`. A new kind: write
// plan/kinds/<kind>.ts (see kind.ts), add it to both lists, add its runner to activities/runners.ts
// (also a table the compiler keeps complete), and document it where its `docs` points.
import { z } from 'zod';
import { agentKind, AgentStep } from './agent.ts';
import { dockerKind, DockerStep } from './docker.ts';
import { inferenceKind, InferenceStep } from './inference.ts';
import { justKind, JustStep } from './just.ts';
import type { StepKindDef } from './kind.ts';
import { shellKind, ShellStep } from './shell.ts';

/** The schema of every step kind, in the order the JSON Schema and error messages list them. */
export const STEP_SCHEMAS = [ShellStep, DockerStep, InferenceStep, JustStep, AgentStep] as const;

/** One step of any kind, without its compensation. */
export const StepBody = z.discriminatedUnion('kind', STEP_SCHEMAS);
export type StepBody = z.infer<typeof StepBody>;
export type StepKindName = StepBody['kind'];
export type StepOfKind<K extends StepKindName> = Extract<StepBody, { kind: K }>;

export const STEP_KINDS: { readonly [K in StepKindName]: StepKindDef<StepOfKind<K>> } = {
  shell: shellKind,
  docker: dockerKind,
  inference: inferenceKind,
  just: justKind,
  agent: agentKind,
};

/** The definition of a kind named by raw input (any JSON), or undefined for an unknown name. */
export function stepKindOf(kind: unknown): StepKindDef<StepBody> | undefined {
  return typeof kind === 'string' && Object.hasOwn(STEP_KINDS, kind) ? STEP_KINDS[kind as StepKindName] as unknown as StepKindDef<StepBody> : undefined;
}

/** The definition of a valid step's kind (validated plans only: an unknown kind is a bug, said loudly). */
export function kindOf<T extends StepBody>(step: T): StepKindDef<T> {
  const def = stepKindOf(step.kind);
  if (!def) throw new Error(`unknown step kind ${JSON.stringify(step.kind)} (known: ${Object.keys(STEP_KINDS).join(', ')})`);
  return def as unknown as StepKindDef<T>;
}

/** A compensation is a step without its own compensation. */
export const Compensation = StepBody;

type WithCompensate<T> = { -readonly [I in keyof T]: T[I] extends z.ZodObject<infer S, infer C>
  ? z.ZodObject<z.core.util.Extend<S, { compensate: z.ZodOptional<typeof Compensation> }>, C> : never };

/** A step of a workstream: any kind, with an optional `compensate` step that undoes it. */
export const Step = z.discriminatedUnion('kind',
  STEP_SCHEMAS.map((schema) => schema.extend({ compensate: Compensation.optional() })) as unknown as WithCompensate<typeof STEP_SCHEMAS>);
export type Step = z.infer<typeof Step>;
