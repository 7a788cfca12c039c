// Checks that need the whole plan, beyond its shape: ids, dependencies, cycles, pools, output
// references, approvals, compensations. They read the raw input defensively (it may be any JSON),
// so a plan with shape errors still gets its semantic errors too: all problems at once. Pure.
import { ancestorQuery, cycleIn, stronglyConnected, type DepGraph } from './graph.ts';
import { parseEstimate } from './durations.ts';
import { scanRefs } from './outputs.ts';
import { formatPath, getAt, type PathSegment } from './field-path.ts';
import { checkKindOf } from './checks/index.ts';
import { arr, checkApprovers, checkCommit, checkStarters, checkEnv, checkGit, checkNotify, obj, str, type Obj } from './semantic-rules.ts';
import { stepKindOf } from './kinds/index.ts';
import { GATE_NOTIFY_EVENTS } from './schema.ts';
import { suggest } from './suggest.ts';
import { checkCache } from './cache-key.ts';

export interface PlanError { path: string; message: string }


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
  const isAncestor = ancestorQuery(graph);
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
  if (plan.notify !== undefined) checkNotify(plan.notify, ['notify'], undefined, err);
  checkGit(plan.git, err);
  checkStarters(plan, err);
  const hasGit = obj(plan.git) !== undefined;
  const cachedByDefault = obj(plan.defaults)?.cache === true;
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
      checkCodexPrice(step, path, raw);
      const comp = obj(step.compensate);
      if (comp) checkStep(comp, [...path, 'compensate'], true, step);

      function checkStep(st: Obj, at: PathSegment[], isCompensation: boolean, compensated: Obj | undefined) {
        checkPool(st.pool, [...at, 'pool']);
        stepKindOf(st.kind)?.rules?.(st, at, { compensated }, err); // the kind's own fields (plan/kinds/<kind>.ts)
        const outputs = obj(st.outputs);
        if (outputs?.from === 'json-file' && str(outputs.file) === undefined) {
          err([...at, 'outputs'], 'outputs from json-file needs "file" (the JSON file the step writes)');
        }
        checkCommit(st, at, hasGit && raw.git !== false, isCompensation, err);
        checkCache(st, at, { isCompensation, cachedByDefault }, err);
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

  /** A codex step under a USD budget needs a price for its model: Codex reports tokens, never cost. */
  function checkCodexPrice(step: Obj, at: PathSegment[], ws: Obj) {
    if (step.kind !== 'agent' || step.agent !== 'codex') return;
    const phase = obj(phases[Number(at[1])]);
    const usd = [obj(step.budget), obj(ws.budget), obj(phase?.budget), obj(plan!.budget)].some((b) => b?.usd !== undefined);
    const model = str(step.model) ?? 'default';
    if (usd && !obj(obj(plan!.prices)?.[model])) {
      err([...at, 'model'], `a USD budget covers this codex step, and Codex reports tokens only: give its model a price, `
        + `prices: { ${JSON.stringify(model)}: { input: <USD per million input tokens>, output: <USD per million output tokens> } }`);
    }
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
      checkKindOf(check.kind)?.rules?.(check, at, { visible }, err);
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
    if (gate.preventSelfApproval === true && !approval) err([...gatePath, 'preventSelfApproval'], 'preventSelfApproval needs an approval (there is nobody to keep from approving)');
    if (gate.notify !== undefined) checkNotify(gate.notify, [...gatePath, 'notify'], GATE_NOTIFY_EVENTS, err);
  });
  return errors;
}
