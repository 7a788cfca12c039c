// Gate check `file`: a file exists; optionally a JSON field of it against thresholds.
import { z } from 'zod';
import { CheckCommon, defineCheckKind } from './kind.ts';

export const FileCheck = z.strictObject({
  ...CheckCommon, kind: z.literal('file'), path: z.string().min(1),
  /** Optional JSON field check: a dotted path into the file's JSON. */
  field: z.string().optional(),
  equals: z.unknown().optional(), atLeast: z.number().optional(), atMost: z.number().optional(),
});
export type FileCheck = z.infer<typeof FileCheck>;

export const fileCheckKind = defineCheckKind<FileCheck>({
  kind: 'file', schema: FileCheck, docs: 'plan-reference.md#gates',
  resolvePaths: (check, base, under) => ({ ...check, path: under(base, check.path)! }),
});
