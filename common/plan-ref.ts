// A plan by reference: a file committed in a repository, read when a run starts (a schedule's
// `--committed` plan). The metaOrchestrator's input may carry `planRef` instead of `plan`; the CPU
// worker's `loadCommittedPlan` activity reads and checks it (activities/committed-plan.ts).
export interface PlanRef {
  /** The repository (absolute path, as the CPU workers see it). */
  repo: string;
  /** The plan file, relative to the repository's top. */
  path: string;
  /** A branch, tag or commit (default HEAD): the plan as committed there when the run starts. */
  ref?: string;
}

export interface PlanRefResult { plan: unknown; commit: string }

export interface PlanActivities {
  loadCommittedPlan(input: PlanRef): Promise<PlanRefResult>;
}

/** The planRef of a workflow input, or why it is not one (undefined when the input has none). */
export function planRefOf(input: unknown): PlanRef | { error: string } | undefined {
  if (input === null || typeof input !== 'object' || !('planRef' in input)) return undefined;
  const ref = (input as { planRef: unknown }).planRef;
  if ('plan' in input) return { error: 'give "plan" or "planRef", not both' };
  const r = ref as Partial<PlanRef> | null;
  if (!r || typeof r !== 'object' || typeof r.repo !== 'string' || !r.repo.startsWith('/') || typeof r.path !== 'string' || r.path === ''
    || (r.ref !== undefined && typeof r.ref !== 'string')) {
    return { error: '"planRef" must be {"repo": "/absolute/repository", "path": "plan file in it", "ref"?: "branch, tag or commit"}' };
  }
  return { repo: r.repo, path: r.path, ...(r.ref !== undefined && { ref: r.ref }) };
}
