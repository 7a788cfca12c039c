// `sparky validate <plan>`: exit 0 with a one-line summary, or exit 2 with every error as
// `file:line:col  path: message` (all of them, not only the first).
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import { count } from '../common/plural.ts';

export async function validateCommand(file: string): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) {
    console.error(formatErrors(loaded.errors));
    console.error(`${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'} in ${file}`);
    return 2;
  }
  const phases = loaded.plan.phases;
  const workstreams = phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));
  const steps = workstreams.reduce((n, w) => n + w.steps.length, 0);
  console.log(`ok: ${file} (${count(phases.length, 'phase')}, ${count(workstreams.length, 'workstream')}, ${count(steps, 'step')})`);
  return 0;
}
