// Checks that need the whole plan, beyond its shape: ids, dependencies, cycles, pools, output
// references, approvals, compensations. They read the raw input defensively (it may be any JSON),
// so a plan with shape errors still gets its semantic errors too: all problems at once. Pure.
import { cycleIn, stronglyConnected, topologicalOrder, type DepGraph } from './graph.ts';
import { parseEstimate } from './durations.ts';
import { scanRefs } from './outputs.ts';
import { formatPath, type PathSegment } from './path.ts';

export interface PlanError { path: string; message: string }

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Obj : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const PINNED_POOL_RE = /^gpu:[A-Za-z0-9._-]+:\d+$/;

interface WsInfo { id: string; phase: number; path: PathSegment[]; steps: Map<string, number>; deps: string[] }

export function semanticErrors(input: unknown): PlanError[] {
  const errors: PlanError[] = [];
  const err = (path: PathSegment[], message: string) => errors.push({ path: formatPath(path), message });
  const plan = obj(input);
  if (!plan) return errors;
  const phases = arr(plan.phases);
  const declaredPools = new Set(Object.keys(obj(plan.pools) ?? {}));
  for (const name of declaredPools) {
    if (name === 'cpu' || name === 'gpu') err(['pools', name], `"${name}" is a built-in pool and cannot be declared`);
  }

  // Pass 1: ids and where each workstream lives.
  const workstreams = new Map<string, WsInfo>();
  const phaseIds = new Map<string, string>();
  const gateIds = new Map<string, string>();
  const firstAt = (seen: Map<string, string>, id: string | undefined, path: PathSegment[], what: string) => {
    if (id === undefined) return;
    const prior = seen.get(id);
    if (prior !== undefined) err([...path, 'id'], `duplicate ${what} id "${id}" (first at ${prior})`);
    else seen.set(id, formatPath(path));
  };
  const wsSeen = new Map<string, string>();
  phases.forEach((phaseRaw, p) => {
    const phase = obj(phaseRaw);
    if (!phase) return;
    firstAt(phaseIds, str(phase.id), ['phases', p], 'phase');
    const gate = obj(phase.gate);
    if (gate) firstAt(gateIds, str(gate.id), ['phases', p, 'gate'], 'gate');
    const domainIds = new Map<string, string>();
    arr(phase.domains).forEach((domainRaw, d) => {
      const domain = obj(domainRaw);
      if (!domain) return;
      firstAt(domainIds, str(domain.id), ['phases', p, 'domains', d], 'domain');
      arr(domain.workstreams).forEach((wsRaw, w) => {
        const ws = obj(wsRaw);
        const id = str(ws?.id);
        if (!ws || id === undefined) return;
        const path = ['phases', p, 'domains', d, 'workstreams', w];
        const prior = wsSeen.get(id);
        if (prior !== undefined) { err([...path, 'id'], `duplicate workstream id "${id}" (first at ${prior})`); return; }
        wsSeen.set(id, formatPath(path));
        const steps = new Map<string, number>();
        arr(ws.steps).forEach((stepRaw, s) => {
          const sid = str(obj(stepRaw)?.id);
          if (sid === undefined) return;
          if (steps.has(sid)) err([...path, 'steps', s, 'id'], `duplicate step id "${sid}" in workstream "${id}" (first at steps[${steps.get(sid)}])`);
          else steps.set(sid, s);
        });
        workstreams.set(id, { id, phase: p, path, steps, deps: [] });
      });
    });
  });

  // Pass 2: dependencies (unknown, later phase, repeated) and cycles.
  const graph: DepGraph = new Map();
  const edgePath = new Map<string, PathSegment[]>();
  for (const ws of workstreams.values()) {
    const raw = obj(getAt(input, ws.path));
    const seen = new Set<string>();
    arr(raw?.dependsOn).forEach((depRaw, i) => {
      const dep = str(depRaw);
      const path = [...ws.path, 'dependsOn', i];
      if (dep === undefined) return;
      if (seen.has(dep)) { err(path, `"${dep}" is listed twice`); return; }
      seen.add(dep);
      const target = workstreams.get(dep);
      if (!target) { err(path, `unknown workstream "${dep}"${suggest(dep, workstreams.keys())}`); return; }
      if (target.phase > ws.phase) {
        const phaseId = str(obj(phases[target.phase])?.id) ?? String(target.phase);
        err(path, `depends on "${dep}", which is in a later phase (phases[${target.phase}] "${phaseId}"); a workstream may depend only on its own or earlier phases`);
        return;
      }
      ws.deps.push(dep);
      edgePath.set(`${ws.id}\u0000${dep}`, path);
    });
    graph.set(ws.id, ws.deps);
  }
  for (const comp of stronglyConnected(graph)) {
    const selfLoop = comp.length === 1 && (graph.get(comp[0]) ?? []).includes(comp[0]);
    if (comp.length < 2 && !selfLoop) continue;
    const cycle = cycleIn(graph, comp);
    err(edgePath.get(`${cycle[0]}\u0000${cycle[1]}`) ?? workstreams.get(cycle[0])!.path, `cycle: ${cycle.join(' → ')}`);
  }

  // Pass 3: steps.
  const isAncestor = ancestorQuery(workstreams, graph);
  const poolOk = (pool: string) => pool === 'cpu' || pool === 'gpu' || declaredPools.has(pool) || PINNED_POOL_RE.test(pool);
  const checkPool = (value: unknown, path: PathSegment[]) => {
    const pool = str(value);
    if (pool !== undefined && !poolOk(pool)) {
      const declared = declaredPools.size ? ` (declared: ${[...declaredPools].join(', ')})` : '';
      err(path, `unknown pool "${pool}": expected cpu, gpu, a pool declared in pools${declared}, or gpu:<host>:<index>`);
    }
  };
  checkPool(obj(plan.defaults)?.pool, ['defaults', 'pool']);
  checkEnv(plan.env, ['env'], err);
  for (const ws of workstreams.values()) {
    const raw = obj(getAt(input, ws.path))!;
    const est = str(raw.estimate);
    const range = est === undefined ? undefined : parseEstimate(est);
    if (range && range.low > range.high) err([...ws.path, 'estimate'], `estimate "${est}": the low end is above the high end`);
    arr(raw.steps).forEach((stepRaw, s) => {
      const step = obj(stepRaw);
      if (!step) return;
      const path = [...ws.path, 'steps', s];
      const refOk = (refWs: string, refStep: string, self: boolean): string | undefined => {
        const target = workstreams.get(refWs);
        if (!target) return `unknown workstream "${refWs}"`;
        const stepIndex = target.steps.get(refStep);
        if (stepIndex === undefined) return `workstream "${refWs}" has no step "${refStep}"`;
        if (refWs === ws.id) {
          if (stepIndex < s || (self && stepIndex === s)) return undefined;
          return `step "${refStep}" does not run before this step in "${ws.id}"`;
        }
        if (target.phase < ws.phase || isAncestor(ws.id, refWs)) return undefined;
        return `"${refWs}" is neither a (transitive) dependency of "${ws.id}" nor in an earlier phase, so its outputs may not exist yet`;
      };
      checkStep(step, path, false, undefined);
      const comp = obj(step.compensate);
      if (comp) checkStep(comp, [...path, 'compensate'], true, step);

      function checkStep(st: Obj, at: PathSegment[], isCompensation: boolean, compensated: Obj | undefined) {
        checkPool(st.pool, [...at, 'pool']);
        const run = arr(st.run);
        if (st.kind === 'shell' && run.length > 0 && typeof run[0] === 'string' && run[0].trim() === '') {
          err([...at, 'run', 0], 'argv[0] (the program) must not be empty');
        }
        const outputs = obj(st.outputs);
        if (outputs?.from === 'json-file' && str(outputs.file) === undefined) {
          err([...at, 'outputs'], 'outputs from json-file needs "file" (the JSON file the step writes)');
        }
        if (st.kind === 'docker') checkDocker(st, at, compensated, err);
        checkEnv(st.env, [...at, 'env'], err);
        for (const name of Object.keys(obj(st.secrets) ?? {})) {
          if (name in (obj(st.env) ?? {})) err([...at, 'secrets', name], `"${name}" is set both in env and in secrets`);
        }
        scanRefs(st, (text, ref, sub) => {
          if (sub[0] === 'compensate') return; // checked as its own step
          if (!ref) { err([...at, ...sub], `malformed output reference ${text}: expected \${{ outputs.<workstream>.<step>.<key> }}`); return; }
          const problem = refOk(ref.workstream, ref.step, isCompensation);
          if (problem) err([...at, ...sub], `output reference ${text}: ${problem}`);
        });
      }
    });
  }

  // Pass 4: gates.
  phases.forEach((phaseRaw, p) => {
    const gate = obj(obj(phaseRaw)?.gate);
    if (!gate) return;
    const gatePath = ['phases', p, 'gate'];
    const checks = arr(gate.checks);
    if (checks.length === 0 && !obj(gate.approval)) err(gatePath, 'a gate needs checks, an approval, or both');
    const visible = (refWs: string, refStep: string): string | undefined => {
      const target = workstreams.get(refWs);
      if (!target) return `unknown workstream "${refWs}"${suggest(refWs, workstreams.keys())}`;
      if (target.phase > p) return `"${refWs}" is in a later phase, so it has not run when this gate is checked`;
      if (!target.steps.has(refStep)) return `workstream "${refWs}" has no step "${refStep}"`;
      return undefined;
    };
    const checkIds = new Map<string, string>();
    checks.forEach((checkRaw, c) => {
      const check = obj(checkRaw);
      if (!check) return;
      const at = [...gatePath, 'checks', c];
      firstAt(checkIds, str(check.id), at, 'check');
      if (check.kind === 'metric' && typeof check.metric === 'string') {
        const parts = check.metric.split('.');
        if (parts.length < 3 || parts.some((x) => x === '')) err([...at, 'metric'], `metric "${check.metric}" must be <workstream>.<step>.<output key>`);
        else {
          const problem = visible(parts[0], parts[1]);
          if (problem) err([...at, 'metric'], `metric "${check.metric}": ${problem}`);
        }
      }
      if (check.kind === 'command') {
        const run = arr(check.run);
        if (run.length > 0 && typeof run[0] === 'string' && run[0].trim() === '') err([...at, 'run', 0], 'argv[0] (the program) must not be empty');
      }
      scanRefs(check, (text, ref, sub) => {
        if (!ref) { err([...at, ...sub], `malformed output reference ${text}: expected \${{ outputs.<workstream>.<step>.<key> }}`); return; }
        const problem = visible(ref.workstream, ref.step);
        if (problem) err([...at, ...sub], `output reference ${text}: ${problem}`);
      });
    });
    const approval = obj(gate.approval);
    if (approval) {
      checkApprovers(approval, [...gatePath, 'approval'], err);
      const escalate = obj(approval.escalate);
      if (escalate) checkApprovers(escalate, [...gatePath, 'approval', 'escalate'], err);
      if (approval.onTimeout === 'escalate' && !escalate) err([...gatePath, 'approval', 'onTimeout'], 'onTimeout is "escalate" but no "escalate" approvers are given');
    }
  });
  return errors;
}

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** A literal value under a secret-looking name is a secret in the plan (and in workflow history). */
function checkEnv(env: unknown, at: PathSegment[], err: (p: PathSegment[], m: string) => void) {
  for (const [name, value] of Object.entries(obj(env) ?? {})) {
    if (SECRET_NAME.test(name) && typeof value === 'string' && value !== '' && !value.includes('${{')) {
      err([...at, name], `"${name}" looks like a secret: never put its value in a plan; use secrets: { ${name}: { fromEnv: <variable on the worker> } }`);
    }
  }
}

function checkApprovers(list: Obj, at: PathSegment[], err: (p: PathSegment[], m: string) => void) {
  const approvers = arr(list.approvers);
  const unique = new Set<string>();
  approvers.forEach((a, i) => {
    if (typeof a !== 'string') return;
    if (unique.has(a)) err([...at, 'approvers', i], `approver "${a}" is listed twice`);
    unique.add(a);
  });
  const required = list.required;
  if (typeof required === 'number' && approvers.length > 0 && required > unique.size) {
    err([...at, 'required'], `required is ${required} but only ${unique.size} approver${unique.size === 1 ? ' is' : 's are'} listed`);
  }
}

/** Docker actions that name nothing to act on (and where nothing can be inferred) are mistakes. */
function checkDocker(st: Obj, at: PathSegment[], compensated: Obj | undefined, err: (p: PathSegment[], m: string) => void) {
  const undoes = (action: string) => compensated?.kind === 'docker' && compensated.action === action;
  const where = compensated ? ' (it can only be inferred when compensating a docker ' : '';
  switch (st.action) {
    case 'rm':
      if (st.container === undefined && !undoes('run')) err(at, `docker rm needs "container"${compensated ? `${where}run step)` : ''}`);
      break;
    case 'rmi':
      if (st.tag === undefined && st.image === undefined && !undoes('build')) err(at, `docker rmi needs "tag"${compensated ? `${where}build step)` : ''}`);
      break;
    case 'compose-down':
      if (st.file === undefined && st.project === undefined && !undoes('compose-up')) err(at, `docker compose-down needs "file" or "project"${compensated ? `${where}compose-up step)` : ''}`);
      break;
    case 'run':
      if (st.image === undefined) err(at, 'docker run needs "image"');
      break;
    case 'compose-up':
      if (st.file === undefined) err(at, 'docker compose-up needs "file"');
      break;
  }
}

/**
 * `isAncestor(ws, target)`: does `ws` depend on `target`, directly or transitively? A depth-first
 * search that skips nodes ordered before `target` topologically (they cannot depend on it), so a
 * 2,000-workstream chain stays fast; nodes on cycles have no order and are searched.
 */
function ancestorQuery(workstreams: Map<string, WsInfo>, graph: DepGraph): (ws: string, target: string) => boolean {
  const topo = new Map(topologicalOrder(graph).map((id, i) => [id, i]));
  return (ws, target) => {
    const deps = workstreams.get(ws)?.deps ?? [];
    if (deps.includes(target)) return true;
    const limit = topo.get(target) ?? -1;
    const seen = new Set<string>([ws]);
    const stack = [...deps];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === target) return true;
      if (seen.has(n) || (topo.get(n) ?? Infinity) < limit) continue;
      seen.add(n);
      stack.push(...(workstreams.get(n)?.deps ?? []));
    }
    return false;
  };
}

export function getAt(root: unknown, path: PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** ` (did you mean "WS-09"?)` when a known id is one or two edits away. */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestDist) continue;
    const d = editDistance(word, c, bestDist);
    if (d < bestDist) { best = c; bestDist = d; }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length];
}
