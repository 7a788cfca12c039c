// The run's graph as the board draws it: workstreams inside their domain inside their phase, each
// phase ending at its gate, dependency edges, the critical path (plan/analyze.ts) marked — laid out
// by dagre (@dagrejs/dagre, compound graph, left to right), not by hand. The page only draws the boxes
// and the edge polylines this returns. Pure apart from dagre's own computation.
import dagre from '@dagrejs/dagre';
import type { Plan } from '../plan/schema.ts';
import type { RunStatus } from '../workflows/status.ts';

export interface GraphNode {
  id: string;
  kind: 'phase' | 'domain' | 'workstream' | 'gate';
  label: string;
  sub?: string;
  state: string;
  critical?: boolean;
  parent?: string;
  x: number; y: number; width: number; height: number;
}
export interface GraphEdge { from: string; to: string; critical: boolean; points: { x: number; y: number }[] }
export interface RunGraph { width: number; height: number; nodes: GraphNode[]; edges: GraphEdge[] }

const WS_W = 170; const WS_H = 46; const GATE_W = 110; const GATE_H = 40;
const clusterId = (kind: 'phase' | 'domain', ...ids: string[]) => `${kind}:${ids.join('/')}`;
const gateNode = (id: string) => `gate:${id}`;

export function runGraph(status: RunStatus, plan: Plan | undefined, criticalPath: readonly string[]): RunGraph {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 46, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const critical = new Set(criticalPath);
  const criticalEdges = new Set(criticalPath.slice(1).map((id, i) => `${criticalPath[i]}→${id}`));
  const labels = new Map<string, Omit<GraphNode, 'x' | 'y' | 'width' | 'height'>>();
  const wsPhase = new Map<string, number>();
  status.phases.forEach((p, i) => p.domains.forEach((d) => d.workstreams.forEach((w) => wsPhase.set(w.id, i))));
  const edges: [string, string][] = [];
  let previousGate: string | undefined;
  status.phases.forEach((phase, i) => {
    const pid = clusterId('phase', phase.id);
    g.setNode(pid, {});
    labels.set(pid, { id: pid, kind: 'phase', label: phase.name ? `${phase.id} · ${phase.name}` : phase.id, state: phase.state });
    const mine = new Set(phase.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
    const dependedOn = new Set<string>();
    for (const domain of phase.domains) {
      const did = clusterId('domain', phase.id, domain.id);
      g.setNode(did, {});
      g.setParent(did, pid);
      labels.set(did, { id: did, kind: 'domain', label: domain.id, state: domain.state, parent: pid });
      for (const ws of domain.workstreams) {
        g.setNode(ws.id, { width: WS_W, height: WS_H });
        g.setParent(ws.id, did);
        const done = ws.steps.filter((s) => s.state === 'succeeded' || s.state === 'cached' || s.state === 'skipped').length;
        labels.set(ws.id, { id: ws.id, kind: 'workstream', label: ws.id, sub: `${ws.name ? `${ws.name} · ` : ''}${done}/${ws.steps.length}`, state: ws.state, critical: critical.has(ws.id), parent: did });
        const deps = (plan ? plan.phases[i]?.domains.find((d) => d.id === domain.id)?.workstreams.find((w) => w.id === ws.id)?.dependsOn : undefined) ?? ws.dependsOn;
        for (const dep of deps) { edges.push([dep, ws.id]); if (mine.has(dep)) dependedOn.add(dep); }
        // A phase's first workstreams wait for the gate before it.
        if (previousGate && !deps.some((d) => mine.has(d))) edges.push([previousGate, ws.id]);
      }
    }
    if (phase.gate) {
      const gid = gateNode(phase.gate.id);
      g.setNode(gid, { width: GATE_W, height: GATE_H });
      g.setParent(gid, pid);
      labels.set(gid, { id: gid, kind: 'gate', label: phase.gate.id, sub: `${phase.gate.approvals.length}/${phase.gate.required} · ${phase.gate.state}`, state: phase.gate.state, parent: pid });
      for (const id of mine) if (!dependedOn.has(id)) edges.push([id, gid]);
      previousGate = gid;
    }
  });
  const known = new Set(g.nodes());
  const kept = edges.filter(([a, b]) => known.has(a) && known.has(b) && a !== b);
  for (const [a, b] of kept) g.setEdge(a, b);
  // The layout depends on the structure only (not on states): the live page asks every second, so the
  // same structure is laid out once.
  const key = JSON.stringify([g.nodes().map((id) => [id, g.parent(id) ?? '']), kept]);
  let layout = layouts.get(key);
  if (!layout) {
    dagre.layout(g);
    const graph = g.graph() as { width?: number; height?: number };
    layout = {
      width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0),
      boxes: new Map(g.nodes().map((id) => { const n = g.node(id) as { x: number; y: number; width: number; height: number }; return [id, { x: n.x, y: n.y, width: n.width, height: n.height }]; })),
      edges: g.edges().map((e) => ({ from: e.v, to: e.w, points: ((g.edge(e) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) })) })),
    };
    if (layouts.size >= 32) layouts.delete(layouts.keys().next().value!);
    layouts.set(key, layout);
  }
  const nodes: GraphNode[] = [...layout.boxes].map(([id, box]) => ({ ...labels.get(id)!, ...box }));
  const out: GraphEdge[] = layout.edges.map((e) => ({ ...e, critical: criticalEdges.has(`${e.from}→${e.to}`) }));
  return { width: layout.width, height: layout.height, nodes, edges: out };
}

interface Layout { width: number; height: number; boxes: Map<string, { x: number; y: number; width: number; height: number }>; edges: { from: string; to: string; points: { x: number; y: number }[] }[] }
const layouts = new Map<string, Layout>();
