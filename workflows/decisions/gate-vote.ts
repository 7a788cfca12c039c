// A gate vote (signals approveGate / rejectGate, update decideGate): one approval, or a rejection that
// sends the named workstreams (default: the whole phase) back for rework. It counts when the gate
// waits, the approver is on the gate's current list and has not voted in this round, the rework list
// names workstreams of the phase, and — for an approver with a key — the signature covers the
// statement of this run, plan, gate, round, decision, comment, rework list and check results, has not
// counted before, and the gate's preventSelfApproval allows it (common/gate-signing.ts).
export { voteFromSignal } from '../../common/gate-signing.ts';
import type { DecideGateInput, DecideGateResult } from '../messages.ts';
import type { GateKeeper } from '../gate.ts';
import type { Notifier } from '../notifier.ts';
import type { RunSigning } from '../signing.ts';
import { now, type GateStatus, type RunStatus } from '../status.ts';
import { clean, no, ok, record, type Checked, type DecisionKind, type Surface } from './pipeline.ts';

interface Deps { status: RunStatus; gates: GateKeeper; signing: RunSigning; notifier: Notifier; onChange: () => void }
interface Grant { gate: GateStatus; fingerprint?: string; checksDigest?: string; signatureId?: string }

export function gateVote(deps: Deps): DecisionKind<DecideGateInput, Grant, DecideGateResult> {
  const { status, gates, signing } = deps;
  return {
    validate(raw): Checked<DecideGateInput> {
      const input = record(raw) as Partial<DecideGateInput> | undefined;
      if (!input || (input.gate === undefined && input.approver === undefined)) return no('no input: expected {"gate": "...", "approver": "..."}');
      if (typeof input.gate !== 'string' || input.gate === '') return no('missing "gate"');
      if (typeof input.approver !== 'string' || input.approver === '') return no('missing "approver"');
      if (input.decision !== 'approve' && input.decision !== 'reject') return no(`decision must be "approve" or "reject", not ${JSON.stringify(input.decision)}`);
      if (input.rework !== undefined) {
        if (input.decision !== 'reject') return no('"rework" goes with a rejection only');
        if (!Array.isArray(input.rework) || input.rework.some((w) => typeof w !== 'string')) return no('"rework" must be a list of workstream ids');
      }
      return ok(input as DecideGateInput);
    },
    authorize(input): Checked<Grant> {
      const gate = gates.find(input.gate);
      if (!gate) return no(`unknown gate "${input.gate}" (gates of this run: ${gates.ids().join(', ') || 'none'})`);
      if (gate.state !== 'waiting') {
        const hint = gate.state === 'checks-failed' && input.decision === 'reject'
          ? `: to send work back now, \`sparky rework ${status.runWorkflowId} ${gate.id} WS… --as NAME --reason …\`` : '';
        return no(`gate ${gate.id} is not waiting for approval (it is ${gate.state})${hint}`);
      }
      if (!gate.approvers.includes(input.approver)) {
        return no(`${input.approver} is not an approver of gate ${gate.id}${gate.escalated ? ' (escalated)' : ''} (approvers: ${gate.approvers.join(', ')})`);
      }
      if (gate.approvals.includes(input.approver)) return no(`${input.approver} already approved gate ${gate.id}: one vote per person`);
      if (input.rework !== undefined) {
        const phase = status.phases.find((p) => p.gate === gate);
        const mine = phase?.domains.flatMap((d) => d.workstreams.map((w) => w.id)) ?? [];
        const unknown = input.rework.filter((w) => !mine.includes(w));
        if (unknown.length) return no(`rework names ${unknown.join(', ')}, not a workstream of phase ${phase?.id} (its workstreams: ${mine.join(', ')})`);
      }
      const signed = signing.check(gate, input);
      if (!signed.ok) return no(signed.reason);
      return ok({ gate, fingerprint: signed.fingerprint, checksDigest: signed.checksDigest, signatureId: signed.signatureId });
    },
    apply(input, grant, surface: Surface): DecideGateResult {
      const { gate, fingerprint } = grant;
      gate.audit.push(clean({
        at: now(), surface, approver: input.approver, decision: input.decision,
        comment: input.decision === 'approve' ? input.comment : undefined,
        reason: input.decision === 'reject' ? input.comment : undefined,
        rework: input.decision === 'reject' && input.rework?.length ? [...input.rework] : undefined,
        ...(input.signature !== undefined ? { signedAt: input.signedAt, signature: input.signature } : {}),
        fingerprint, round: signing.v2 ? gate.round : undefined,
      }));
      // Rules of 0.1 recorded signed decisions only (their histories stay as they were); 0.2 records every counted vote.
      if (signing.v2 || fingerprint) signing.record(gate, input, surface, { fingerprint, checksDigest: grant.checksDigest ?? '', signatureId: grant.signatureId });
      if (input.decision === 'reject') {
        gate.state = 'rejected';
        gate.decidedAt = now();
      } else {
        gate.approvals.push(input.approver);
        if (gate.approvals.length >= gate.required) { gate.state = 'approved'; gate.decidedAt = now(); }
      }
      deps.onChange();
      if (gate.state !== 'waiting') {
        deps.notifier.gate('decided', gate, { approver: input.approver, decision: input.decision, comment: input.comment, fingerprint });
      }
      return { gate: gate.id, state: gate.state, approvals: [...gate.approvals], required: gate.required, approvers: [...gate.approvers] };
    },
    ignore(raw, why): void {
      const input = record(raw) as Partial<DecideGateInput> | undefined;
      const gate = (typeof input?.gate === 'string' ? gates.find(input.gate) : undefined) ?? gates.waiting() ?? gates.lastGate();
      if (!gate) return;
      gate.audit.push(clean({
        at: now(), surface: 'signal' as const, approver: typeof input?.approver === 'string' ? input.approver : '(none)',
        decision: input?.decision === 'approve' || input?.decision === 'reject' ? input.decision : undefined,
        comment: input?.comment, ignored: true, ignoredReason: why,
        ...(typeof input?.signature === 'string' ? { signedAt: input.signedAt, signature: input.signature } : {}),
      }));
      deps.onChange();
    },
  };
}
