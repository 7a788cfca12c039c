// The gate-check kinds, registered here and nowhere else: CHECK_SCHEMAS makes the plan schema's check
// union, and CHECK_KINDS (typed over that union's `kind` names) must hold a complete definition for
// each, so a kind added to one and not the other fails `tsc`. A new kind: write plan/checks/<kind>.ts
// (see kind.ts), add it to both lists, add its runner to activities/checks.ts (a table the compiler keeps
// complete), and document it where its `docs` points.
import { z } from 'zod';
import { commandCheckKind, CommandCheck } from './command.ts';
import { fileCheckKind, FileCheck } from './file.ts';
import { httpCheckKind, HttpCheck } from './http.ts';
import type { CheckKindDef } from './kind.ts';
import { metricCheckKind, MetricCheck } from './metric.ts';

export const CHECK_SCHEMAS = [CommandCheck, FileCheck, MetricCheck, HttpCheck] as const;

export const GateCheck = z.discriminatedUnion('kind', CHECK_SCHEMAS);
export type GateCheck = z.infer<typeof GateCheck>;
export type CheckKindName = GateCheck['kind'];
export type CheckOfKind<K extends CheckKindName> = Extract<GateCheck, { kind: K }>;

export const CHECK_KINDS: { readonly [K in CheckKindName]: CheckKindDef<CheckOfKind<K>> } = {
  command: commandCheckKind,
  file: fileCheckKind,
  metric: metricCheckKind,
  http: httpCheckKind,
};

/** The definition of a check kind named by raw input (any JSON), or undefined for an unknown name. */
export function checkKindOf(kind: unknown): CheckKindDef<GateCheck> | undefined {
  return typeof kind === 'string' && Object.hasOwn(CHECK_KINDS, kind) ? CHECK_KINDS[kind as CheckKindName] as unknown as CheckKindDef<GateCheck> : undefined;
}
