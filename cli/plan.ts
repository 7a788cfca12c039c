// `sparky plan <plan>`: what a plan will do before it runs — phases, domains and workstreams with
// their dependencies, estimates and pools, the gates with their approvers, and the durations and
// critical path from the estimates. `--json` prints the analysis, `--mermaid` a diagram.
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import { analyzePlan, type PlanAnalysis, type Span } from '../plan/analyze.ts';
import { planToMermaid } from '../plan/mermaid.ts';
import { DAY_MS, formatMs } from '../plan/durations.ts';
import type { Plan } from '../plan/schema.ts';
import { approverName, approverKeys, type ApproverEntry } from '../common/approvers.ts';
import { count } from '../common/plural.ts';

export async function planCommand(file: string, opts: { json?: boolean; mermaid?: boolean } = {}): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) {
    console.error(formatErrors(loaded.errors));
    return 2;
  }
  const analysis = analyzePlan(loaded.plan);
  if (opts.json) console.log(JSON.stringify(analysis, null, 2));
  else if (opts.mermaid) console.log(planToMermaid(loaded.plan, { criticalPath: analysis.criticalPath.path }).trimEnd());
  else console.log(renderPlan(loaded.plan, analysis));
  return 0;
}

/** A point in the schedule, as the day it falls on (midpoint estimates). */
const day = (ms: number) => `day ${+(ms / DAY_MS).toFixed(2)}`;
const span = (s: Span) => (s.low === s.high ? formatMs(s.mid) : `${formatMs(s.low)} / ${formatMs(s.mid)} / ${formatMs(s.high)}`);

/** Columns padded to their widest cell. */
function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd());
}

export function renderPlan(plan: Plan, a: PlanAnalysis): string {
  const critical = new Set(a.criticalPath.path);
  const c = a.counts;
  const out = [`Plan ${plan.name}${plan.version !== undefined ? ` (version ${plan.version})` : ''}: ${count(c.phases, 'phase')}, ${count(c.domains, 'domain')}, `
    + `${count(c.workstreams, 'workstream')}, ${count(c.steps, 'step')}, ${count(c.gates, 'gate')}`];
  if (plan.description) out.push(plan.description);
  plan.phases.forEach((phase, p) => {
    const info = a.phases[p];
    out.push('', `Phase ${phase.id}${phase.name ? ` — ${phase.name}` : ''}  (starts ${day(info.start.mid)}, lasts ${span(info.length)}, `
      + `up to ${count(info.maxParallel, 'workstream')} at once)`);
    const rows = [['WORKSTREAM', 'NAME', 'DOMAIN', 'DEPENDS ON', 'ESTIMATE', 'STARTS', 'STEPS', 'POOLS']];
    for (const ws of a.workstreams.filter((w) => w.phaseId === phase.id)) {
      rows.push([`${ws.id}${critical.has(ws.id) ? ' *' : ''}`, ws.name ?? '', ws.domainId, ws.dependsOn.join(', ') || '-',
        ws.estimate ?? '-', day(ws.start.mid), String(ws.steps), ws.pools.join(', ')]);
    }
    out.push(...table(rows));
    const gate = phase.gate;
    if (gate) {
      const approval = gate.approval;
      const who = approval
        ? `approval: ${approval.required ?? 1} of ${approverLabels(approval.approvers)}${approval.timeout ? ` within ${approval.timeout}` : ''}`
          + `, then ${approval.onTimeout ?? 'reject'}${approval.escalate ? ` to ${approval.escalate.required ?? 1} of ${approverLabels(approval.escalate.approvers)}` : ''}`
        : 'no approval';
      const checks = (gate.checks ?? []).map((ch) => `${ch.id} (${ch.kind})`).join(', ') || 'none';
      out.push(`  Gate ${gate.id}${gate.name ? ` "${gate.name}"` : ''}`, `    checks: ${checks}`, `    ${who}`);
    }
  });
  out.push('', 'Durations from the estimates (low / midpoint / high; unlimited workers, gates take no time):',
    ...table([
      ['all workstreams one after another', span(a.serial)],
      ['critical path, ignoring phase gates', span(a.criticalPath.span)],
      ['schedule with phase gates as barriers', span(a.scheduled)],
    ]),
    `Critical path (* above): ${a.criticalPath.path.join(' → ') || '-'}`,
    `Order: ${a.order.join(', ')}`);
  return out.join('\n');
}

/** Names, with a lock where decisions must be signed: `alice (signed), bob`. */
function approverLabels(list: ApproverEntry[]): string {
  return list.map((a) => `${approverName(a)}${approverKeys(a).length ? ' (signed)' : ''}`).join(', ');
}
