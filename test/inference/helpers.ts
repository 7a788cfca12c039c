// Shared by the inference tests: sprites made by the server's own Python, step inputs, a worker that
// runs the fixture workflow, and polling.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StepActivityInput, StepContext } from '../../common/activity-types.ts';
import type { InferenceStep } from '../../plan/schema.ts';
import { PROJECT_ROOT, VENV_PYTHON } from '../../host/paths.ts';

export const fixtureWorkflows = fileURLToPath(new URL('../fixtures/workflows/inference-steps.ts', import.meta.url));
export const PLUGIN_ARGS = ['--ops-module', 'inference.tests.plugin_ops'];

/** Writes `count` generated PNG sprites into `dir` (inference/ops/bench.py's generator). */
export function writeSprites(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `sprite-${i}.png`));
  execFileSync(VENV_PYTHON, ['-c', `import sys\nfrom inference.ops.bench import sprite\nfor i, p in enumerate(sys.argv[1:]):\n    open(p, 'wb').write(sprite(i, 64))`, ...files],
    { cwd: PROJECT_ROOT, env: { ...process.env, PYTHONPATH: PROJECT_ROOT } });
  return files;
}

export function inferenceInput(step: Omit<InferenceStep, 'kind'>, ctx: Partial<StepContext> = {}): StepActivityInput {
  const runWorkflowId = ctx.runWorkflowId ?? `sparky-inference-test-${randomUUID().slice(0, 8)}`;
  return {
    step: { kind: 'inference', ...step },
    ctx: {
      runWorkflowId, planName: 'inference-test', phaseId: 'p', domainId: 'd', workstreamId: 'ws', stepId: step.id,
      idempotencyKey: `${runWorkflowId}/ws/${step.id}`, ...ctx,
    },
  };
}
