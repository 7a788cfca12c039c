// `sparky run PLAN --dry-run`: the report of a dry run (workflows/dry-run.ts) as a person reads it —
// one line per step (would run and why, from the cache and from which run, skipped and why), the gates
// that would be asked, and the critical path of what would run.
import type { DryRunReport } from '../workflows/dry-run.ts';

export function dryRunLines(r: DryRunReport, file: string): string[] {
  const width = Math.max(...r.steps.map((s) => `${s.workstream}/${s.step}`.length), 10);
  const lines = [`dry run of plan ${r.plan} (${file}): nothing was started${r.subset ? `; subset ${r.subset}` : ''}`];
  for (const s of r.steps) {
    const what = s.action === 'cached' && s.from
      ? `from run ${s.from.run} (${s.from.workstream}/${s.from.step}, made ${s.from.at}${s.from.host ? ` on ${s.from.host}` : ''})`
      : s.reason;
    lines.push(`  ${`${s.workstream}/${s.step}`.padEnd(width)}  ${s.action.padEnd(7)}  ${what}`);
  }
  for (const g of r.gates) {
    lines.push(`  gate ${g.id}: ${g.asked ? 'asked' : 'not asked (its phase is not entered)'}${g.skippedChecks?.length ? `; checks not run: ${g.skippedChecks.join('; ')}` : ''}`);
  }
  lines.push(`${r.counts.run} step(s) would run, ${r.counts.cached} would come from the cache, ${r.counts.skipped} would be skipped`);
  lines.push(r.criticalPath.path.length ? `critical path of what would run: ${r.criticalPath.path.join(' → ')} (estimates: ${r.criticalPath.estimate})`
    : 'critical path of what would run: nothing with an estimate would run');
  return lines;
}

export function printDryRun(r: DryRunReport, file: string): void {
  console.log(dryRunLines(r, file).join('\n'));
}
