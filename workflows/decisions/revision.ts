// A plan revision (update `revisePlan`, `sparky revise`): a corrected plan for a run that waits. It
// counts when the revised plan validates, changes nothing that already ran (workflows/revise.ts) and,
// where it changes approvals, keys, git, notify, baseDir or starters, carries the signatures of the
// quorum of the current approvers (common/revision-signing.ts). Applied fully: the running phase's
// children get their revised domains, a waiting gate takes its new approvers and quorum at once (a
// quorum lowered to the votes already given approves it), and changed checks of a waiting gate run
// again before a fresh round of votes.
import { approverNames } from '../../common/approvers.ts';
import { planDigest } from '../../common/gate-statement.ts';
import type { RevisionAuthorization } from '../../common/revision-signing.ts';
import { starterRefusal } from '../../common/signed-decision.ts';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { Plan } from '../../plan/schema.ts';
import type { GateKeeper } from '../gate.ts';
import { reviseDomainSignal, type RevisePlanInput, type RevisePlanResult } from '../messages.ts';
import type { Notifier } from '../notifier.ts';
import type { Relay } from '../relay.ts';
import { checkRevision, revisedDomain } from '../revise.ts';
import { TERMINAL } from '../run-text.ts';
import { signersRefusal, type RunSigning } from '../signing.ts';
import type { StatusIndex } from '../status-index.ts';
import { runBudgets } from '../spend.ts';
import { now, phaseStatus, recount, type GateStatus, type RunStatus } from '../status.ts';
import { validateRunInput } from '../validate-input.ts';
import type { DecisionLog } from './log.ts';
import { no, ok, record, type Checked, type DecisionKind, type Surface } from './pipeline.ts';

export interface RevisionDeps {
  status: RunStatus;
  plan: () => Plan;
  signing: RunSigning;
  gates: GateKeeper;
  notifier: Notifier;
  log: DecisionLog;
  index: StatusIndex;
  relay: Relay;
  /** Domain children running now (they get `reviseDomain`). */
  active: ReadonlySet<string>;
  childId: (phaseId: string, domainId: string) => string;
  /** Takes the plan in force everywhere else (run context, phase deps). */
  adopt: (next: Plan) => void;
}

interface Input extends RevisePlanInput { by: string }
interface Grant { next: Plan; changes: string[]; auth?: Extract<RevisionAuthorization, { ok: true }> }

export function revisePlan(deps: RevisionDeps): DecisionKind<Input, Grant, RevisePlanResult> {
  const { status, signing } = deps;
  return {
    validate(raw): Checked<Input> {
      const msg = record(raw);
      if (!msg) return no('no input: expected {"plan": {...}, "by": "..."}');
      if (typeof msg.by !== 'string' || msg.by.trim() === '') return no('missing "by": who revises the plan (kept in the audit)');
      return ok(msg as unknown as Input);
    },
    authorize(msg): Checked<Grant> {
      if (TERMINAL.includes(status.state) || status.state === 'compensating') return no(`the run is ${status.state}: it takes no revision`);
      if (!['attention', 'waiting', 'paused'].includes(status.state)) {
        return no(`the run is ${status.state}: a revision is taken while the run waits (attention, at a gate, or paused); pause it first`);
      }
      let next: Plan;
      try {
        // The rule that committing steps work in git.repo is 0.2's; a run of 0.1 replays its revisions without it.
        next = validateRunInput({ plan: msg.plan }, { gitPaths: () => signing.v2 }).plan;
      } catch (err) {
        return no(`the revised plan is not valid: ${(err as Error).message}`);
      }
      const unsigned = signersRefusal(next);
      if (unsigned) return no(`the revised plan is not valid: ${unsigned}`);
      const check = checkRevision(deps.plan(), next, status);
      if (check.problems.length) return no(`revision refused (${check.problems.length} reason${check.problems.length === 1 ? '' : 's'}):\n  ${check.problems.join('\n  ')}`);
      if (check.changes.length === 0) return no('the revised plan is the same as the plan in force: nothing to change');
      const auth = signing.authorizeRevision(next, status, { signedAt: msg.signedAt, signatures: msg.signatures });
      if (auth && !auth.ok) return no(`revision refused: ${auth.reason}`);
      if (signing.v2) {
        const starter = starterRefusal(next, signing.starter);
        if (starter) return no(`revision refused: ${starter}`);
      }
      return ok({ next, changes: check.changes, auth: auth?.ok ? auth : undefined });
    },
    apply(msg, grant, surface: Surface): RevisePlanResult {
      applyRevision(deps, grant, msg.by.trim(), msg, surface);
      return { revision: status.revision, changes: grant.changes };
    },
    ignore(): void {
      // An update only: nothing to audit for a refused revision (the caller got the reason).
    },
  };
}

function applyRevision(deps: RevisionDeps, grant: Grant, by: string, msg: Input, surface: Surface): void {
  const { status, signing } = deps;
  const { next, changes, auth } = grant;
  const before = deps.plan();
  const beforeDigest = signing.planDigest;
  signing.revised(next);
  status.planDigest = signing.planDigest;
  status.revision += 1;
  const signedBy = auth?.signers.filter((s) => s.approvers.length > 0);
  status.revisions.push({ revision: status.revision, at: now(), by, ...(msg.comment ? { comment: msg.comment } : {}), changes, ...(signedBy?.length ? { signedBy } : {}) });
  deps.log.record({ surface, action: 'revisePlan', by, comment: msg.comment, revision: status.revision });
  signing.recordRevision({
    revision: status.revision, by, at: now(), planDigest: beforeDigest, newPlanDigest: planDigest(next), changes,
    ...(msg.signatures?.length ? { signedAt: msg.signedAt, signatures: [...msg.signatures] } : {}),
    ...(signedBy?.length ? { signers: signedBy } : {}),
  }, auth?.signatureIds ?? []);
  status.onFailure = next.onFailure ?? 'ask';
  status.onAbort = next.onAbort ?? 'compensate';
  next.phases.forEach((phase, i) => {
    const ps = status.phases[i];
    if (ps.state === 'pending') { status.phases[i] = phaseStatus(phase, deps.childId); return; }
    if (ps.state === 'succeeded') return;
    // The running phase: step lists of unfinished workstreams follow the revision.
    phase.domains.forEach((domain, d) => domain.workstreams.forEach((ws, w) => {
      const st = ps.domains[d].workstreams[w];
      st.steps = ws.steps.map((step, k) => {
        const old = st.steps[k];
        return old && old.id === before.phases[i].domains[d].workstreams[w].steps[k]?.id && old.state !== 'pending' && old.id === step.id
          ? old : { id: step.id, kind: step.kind, state: 'pending' as const };
      });
      if (st.attention) {
        const at = before.phases[i].domains[d].workstreams[w].steps.findIndex((s) => s.id === st.attention?.step);
        const id = ws.steps[at]?.id;
        if (id) st.attention = { ...st.attention, step: id };
      }
    }));
    if (phase.gate && ps.gate) reviseGate(deps, ps.gate, before.phases[i].gate, phase.gate);
    // Budgets and prices go along where the plan has (or had) them: a raised budget lets `retry` go on.
    const budgeted = (p: Plan) => p.budget !== undefined || p.prices !== undefined || p.phases.some((x) => x.budget !== undefined);
    const agentRun = budgeted(next) || budgeted(before) ? { budgets: runBudgets(next, phase).budgets ?? {}, prices: next.prices ?? {} } : {};
    for (const domain of phase.domains) {
      const id = deps.childId(phase.id, domain.id);
      if (deps.active.has(id)) {
        deps.relay.send(phase.id, [id], reviseDomainSignal,
          { domain: revisedDomain(next, phase.id, domain.id) ?? domain, revision: status.revision, run: { defaults: next.defaults ?? {}, pools: next.pools ?? {}, env: next.env ?? {}, ...agentRun } });
      }
    }
  });
  deps.index.rebuild();
  recount(status);
  deps.adopt(next);
}

/** The running phase's gate follows the revision: its approvers and quorum now, its checks again if they changed. */
function reviseGate(deps: RevisionDeps, gate: GateStatus, old: Plan['phases'][number]['gate'], def: NonNullable<Plan['phases'][number]['gate']>): void {
  const { signing } = deps;
  if (['approved', 'rejected', 'merge-conflict'].includes(gate.state)) return;
  if (!signing.v2) {
    // Rules of 0.1 (kept for runs started on it): the first list only, nothing re-evaluated.
    if (gate.escalated) return;
    gate.approvers = approverNames(def.approval?.approvers);
    gate.signedApprovers = gate.state === 'waiting' ? signing.signedApprovers(gate) : gate.signedApprovers;
    gate.required = def.approval?.required ?? 1;
    gate.approvals = gate.approvals.filter((a) => gate.approvers.includes(a));
    return;
  }
  const list = gate.escalated && def.approval?.escalate ? def.approval.escalate : def.approval;
  gate.approvers = approverNames(list?.approvers);
  gate.required = list?.required ?? 1;
  gate.approvals = gate.approvals.filter((a) => gate.approvers.includes(a));
  if (gate.state !== 'waiting') return;
  gate.signedApprovers = signing.signedApprovers(gate);
  if (canonicalJson(old?.checks ?? []) !== canonicalJson(def.checks ?? []) || (!old?.approval) !== (!def.approval)) {
    deps.gates.checksRevised(gate.id); // runGate runs the new checks, then opens a fresh round
    return;
  }
  if (gate.approvals.length >= gate.required) {
    gate.state = 'approved';
    gate.decidedAt = now();
    gate.audit.push({ at: now(), surface: 'update', approver: '(revision)', decision: 'approve', automatic: true,
      reason: `revision ${deps.status.revision} set the quorum to ${gate.required}: ${gate.approvals.join(', ')} approved already` });
    deps.notifier.gate('decided', gate, { approver: '(revision)', decision: 'approve', comment: `quorum ${gate.required} reached by revision ${deps.status.revision}` });
  }
}
