// Workflow ids are a contract: `sparky-<plan name>-<run id>` unless the caller gives one.
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'plan';
}

export function runWorkflowId(planName: string, runId: string): string {
  return `sparky-${slug(planName)}-${runId}`;
}

/** Child workflow id of one domain in one phase of a run: readable in the Web UI as a child of the run. */
export function domainWorkflowId(parentWorkflowId: string, phaseId: string, domainId: string): string {
  return `${parentWorkflowId}/${slug(phaseId)}/${slug(domainId)}`;
}
