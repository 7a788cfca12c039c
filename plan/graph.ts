// Small graph algorithms over workstream ids, shared by validation (cycles) and analysis (order,
// critical path). Iterative, so a 2,000-long dependency chain cannot overflow the stack. Pure.

/** `deps.get(a)` = the nodes `a` depends on (edges a → dep). Unknown targets must be filtered out. */
export type DepGraph = Map<string, string[]>;

/** Strongly connected components (Tarjan), each listed in discovery order. */
export function stronglyConnected(graph: DepGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter); low.set(root, counter++); stack.push(root); onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++];
        if (!graph.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, counter); low.set(to, counter++); stack.push(to); onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const comp: string[] = [];
        let n: string;
        do { n = stack.pop()!; onStack.delete(n); comp.push(n); } while (n !== frame.node);
        out.push(comp.reverse());
      }
    }
  }
  return out;
}

/** One cycle inside a strongly connected component, as a closed walk: [a, b, …, a]. */
export function cycleIn(graph: DepGraph, component: string[]): string[] {
  const members = new Set(component);
  const start = component[0];
  // Breadth-first from start back to start inside the component: the shortest cycle through it.
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const walk = [start];
        for (let n: string | undefined = node; n !== undefined && n !== start; n = prev.get(n)) walk.push(n);
        walk.push(start);
        return [start, ...walk.slice(1, -1).reverse(), start];
      }
      if (!prev.has(to)) { prev.set(to, node); queue.push(to); }
    }
  }
  return [start, start];
}

/** Kahn's order (dependencies first), ties broken by the given node order; nodes on cycles are left out. */
export function topologicalOrder(graph: DepGraph): string[] {
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, deps] of graph) {
    const known = [...new Set(deps.filter((d) => graph.has(d)))];
    remaining.set(node, known.length);
    for (const d of known) {
      const list = dependents.get(d);
      if (list) list.push(node); else dependents.set(d, [node]);
    }
  }
  const position = new Map([...graph.keys()].map((n, i) => [n, i]));
  // A min-heap on plan position keeps the order stable and readable (plan order wherever the graph allows).
  const heap = new MinHeap((a: string, b: string) => position.get(a)! - position.get(b)!);
  for (const n of graph.keys()) if (remaining.get(n) === 0) heap.push(n);
  const order: string[] = [];
  while (heap.size > 0) {
    const node = heap.pop()!;
    order.push(node);
    for (const dep of dependents.get(node) ?? []) {
      const left = remaining.get(dep)! - 1;
      remaining.set(dep, left);
      if (left === 0) heap.push(dep);
    }
  }
  return order;
}

export class MinHeap<T> {
  private items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number { return this.items.length; }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]]; i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]]; i = m;
      }
    }
    return top;
  }
}

/**
 * `isAncestor(node, target)`: does `node` depend on `target`, directly or transitively? A depth-first
 * search that skips nodes ordered before `target` topologically (they cannot depend on it), so a
 * 2,000-workstream chain stays fast; nodes on cycles have no order and are searched.
 */
export function ancestorQuery(graph: DepGraph): (node: string, target: string) => boolean {
  const topo = new Map(topologicalOrder(graph).map((id, i) => [id, i]));
  return (ws, target) => {
    const deps = graph.get(ws) ?? [];
    if (deps.includes(target)) return true;
    const limit = topo.get(target) ?? -1;
    const seen = new Set<string>([ws]);
    const stack = [...deps];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === target) return true;
      if (seen.has(n) || (topo.get(n) ?? Infinity) < limit) continue;
      seen.add(n);
      stack.push(...(graph.get(n) ?? []));
    }
    return false;
  };
}
