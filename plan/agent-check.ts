// Checks a plan file's `agent` steps against this machine, the way `sparky validate` checks `just`
// steps against their justfiles: the CLI each one names must be installed (scripts/setup puts them in
// .tools/agents/), else a plan error at the step's `agent` field saying what to install or set. The
// key and endpoint are the worker's environment, not this machine's: a missing one is named when the
// step runs (attention, with the variable to set). Reads files: the loader calls it for plan FILES only.
import { findAgentCli, type AgentName } from '../host/agents.ts';
import { formatPath, type PathSegment } from './field-path.ts';
import type { Plan, StepBody } from './schema.ts';
import type { PlanError } from './semantic.ts';

export function agentCliErrors(plan: Plan, find: (agent: AgentName) => ReturnType<typeof findAgentCli> = findAgentCli): PlanError[] {
  const errors: PlanError[] = [];
  const cache = new Map<AgentName, ReturnType<typeof findAgentCli>>();
  const visit = (step: StepBody & { compensate?: StepBody }, at: PathSegment[]) => {
    if (step.kind === 'agent') {
      if (!cache.has(step.agent)) cache.set(step.agent, find(step.agent));
      const cli = cache.get(step.agent)!;
      if ('missing' in cli) errors.push({ path: formatPath([...at, 'agent']), message: cli.missing });
    }
    if (step.compensate) visit(step.compensate, [...at, 'compensate']);
  };
  plan.phases.forEach((phase, p) => phase.domains.forEach((domain, d) => domain.workstreams.forEach((ws, w) =>
    ws.steps.forEach((step, s) => visit(step, ['phases', p, 'domains', d, 'workstreams', w, 'steps', s])))));
  return errors;
}
