// Step kind `inference`: a job for the GPU inference server (docs/protocol.md). Runner:
// activities/inference.ts, on GPU workers only.
import { z } from 'zod';
import { Duration, StepCommon } from '../step-base.ts';
import { defineStepKind } from './kind.ts';

export const InferenceStep = z.strictObject({
  ...StepCommon,
  kind: z.literal('inference'),
  op: z.string().min(1),                   // e.g. gemm, pixelize
  model: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** Binary inputs: name → file path (glob allowed), read by the activity. */
  inputs: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  /** Where the activity writes binary results (files named after the result keys). */
  outputDir: z.string().optional(),
  requestTimeout: Duration.optional(),
});
export type InferenceStep = z.infer<typeof InferenceStep>;

const mapInputs = (inputs: InferenceStep['inputs'], f: (p: string) => string) => inputs && Object.fromEntries(
  Object.entries(inputs).map(([k, v]) => [k, Array.isArray(v) ? v.map(f) : f(v)]));

export const inferenceKind = defineStepKind<InferenceStep>({
  kind: 'inference',
  schema: InferenceStep,
  json: { id: 'InferenceStep', description: 'A job for the GPU inference server (falls back to the CPU): op, params, inputs.' },
  docs: 'plan-reference.md#inference',
  resolvePaths(step, base, under) {
    const inputs = mapInputs(step.inputs, (p) => under(base, p)!);
    return {
      ...step,
      ...(inputs !== undefined && { inputs }),
      ...(step.outputDir !== undefined && { outputDir: under(base, step.outputDir) }),
    };
  },
  inWorktree: (step, mv) => ({
    ...step,
    ...(step.outputDir !== undefined && { outputDir: mv(step.outputDir) }),
    ...(step.inputs !== undefined && { inputs: mapInputs(step.inputs, mv) }),
  }),
  // Without outputDir, results go to the run's own directory on the worker.
  workPaths: (step) => ({ field: 'outputDir', where: 'writes its results to', paths: [step.outputDir ?? '$SPARKY_RUN_DIR'] }),
});
