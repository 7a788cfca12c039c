// A mermaid flowchart of a plan: phases as subgraphs with their domains nested inside, workstreams
// as nodes, dependsOn as edges (dependency → dependent), and each gate as a node between its phase
// and the next. The critical path, when given, is highlighted. Node ids are positional (p0, p0d1,
// ws12, g0) because plan ids may hold characters mermaid does not accept in ids. Pure.
import type { Plan } from './schema.ts';
import { approverNames } from '../common/approvers.ts';

/** Mermaid label text: quotes and angle brackets would end or break the label. */
function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

export function planToMermaid(plan: Plan, opts: { criticalPath?: string[] } = {}): string {
  const lines = ['flowchart TD'];
  const wsNode = new Map<string, string>();
  let n = 0;
  plan.phases.forEach((phase, p) => {
    lines.push(`  subgraph p${p}["${label(`${phase.id}${phase.name ? `: ${phase.name}` : ''}`)}"]`);
    phase.domains.forEach((domain, d) => {
      lines.push(`    subgraph p${p}d${d}["${label(domain.name ?? domain.id)}"]`);
      for (const ws of domain.workstreams) {
        const id = `ws${n++}`;
        wsNode.set(ws.id, id);
        const text = [ws.id, ws.name, ws.estimate].filter((t): t is string => Boolean(t)).map(label).join('<br/>');
        lines.push(`      ${id}["${text}"]`);
      }
      lines.push('    end');
    });
    lines.push('  end');
  });
  plan.phases.forEach((phase, p) => {
    const gate = phase.gate;
    const next = p + 1 < plan.phases.length ? `p${p + 1}` : undefined;
    if (gate) {
      const approval = gate.approval;
      const who = approval ? `<br/>${approval.required ?? 1} of ${approval.approvers.length}: ${approverNames(approval.approvers).map(label).join(', ')}` : '';
      const checks = gate.checks?.length ? `<br/>${gate.checks.length} check${gate.checks.length === 1 ? '' : 's'}` : '';
      lines.push(`  g${p}{{"${label(gate.name ?? gate.id)}${checks}${who}"}}`);
      lines.push(`  p${p} --> g${p}`);
      if (next) lines.push(`  g${p} --> ${next}`);
    } else if (next) {
      lines.push(`  p${p} --> ${next}`);
    }
  });
  for (const phase of plan.phases) {
    for (const domain of phase.domains) {
      for (const ws of domain.workstreams) {
        for (const dep of ws.dependsOn ?? []) {
          const from = wsNode.get(dep);
          if (from) lines.push(`  ${from} --> ${wsNode.get(ws.id)}`);
        }
      }
    }
  }
  const critical = (opts.criticalPath ?? []).map((id) => wsNode.get(id)).filter((x): x is string => x !== undefined);
  if (critical.length > 0) {
    lines.push('  classDef critical stroke:#d03030,stroke-width:3px');
    lines.push(`  class ${critical.join(',')} critical`);
  }
  return `${lines.join('\n')}\n`;
}
