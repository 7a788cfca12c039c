// Who must agree to a plan revision, and whether they did: the one rule the workflow applies before a
// revision counts (workflows/decisions/revision.ts) and `sparky verify` applies again from the
// history. A revision that changes a gate's approval (approvers, keys, required, escalation,
// preventSelfApproval, notify) needs signatures from the quorum of that gate's CURRENT approvers —
// the ones in force before the revision, never the ones it brings; one that changes `git`,
// `notify`, `baseDir`, `starters` or a workstream's `git` needs the quorum of every gate not yet
// decided. Gates whose approvers have no keys cannot sign anything and are not asked. Everyone signs
// the same statement (common/gate-statement.ts buildRevisionStatement); each signature counts once
// per run. Pure and deterministic.
import { approverKeys, approverName, type ApproverEntry } from './approvers.ts';
import { CLOCK_SKEW_MS } from './gate-signing.ts';
import { buildRevisionStatement, ISO_TIME_RE } from './gate-statement.ts';
import { keyFingerprint } from './keys.ts';
import { listedKeys, signatureId } from './signed-decision.ts';
import { verifySshsig } from './sshsig.ts';
import { isWebauthnSignature, verifyPasskeySignature, type WebauthnPublicKey } from './webauthn.ts';
import { changeWords, planChanges, type PlanChange } from '../plan/changes.ts';
import type { Plan } from '../plan/schema.ts';

/** The signatures a revision carries: everyone signed the same statement, made at `signedAt`. */
export interface RevisionSignatures { signedAt?: string; signatures?: string[] }

export interface RevisionSigningContext {
  current: Plan;
  next: Plan;
  run: string;
  /** The revision number the plan would become. */
  revision: number;
  planDigest: string;
  newPlanDigest: string;
  /** Gates of the run that reached their decision (approved, or approved and merging): no revision may need them. */
  decided: ReadonlySet<string>;
  /** Gates waiting on their escalation list now. */
  escalated: ReadonlySet<string>;
  now: string;
  used?: ReadonlySet<string>;
}

export interface GateQuorum { gate: string; approvers: ApproverEntry[]; need: number; why: string[] }

export type RevisionAuthorization =
  | { ok: true; changes: PlanChange[]; quorums: GateQuorum[]; signers: { gate: string; approvers: { name: string; fingerprint: string }[] }[]; signatureIds: string[] }
  | { ok: false; reason: string; changes: PlanChange[] };

/** The gate's current approver list and how many of its keyed approvers must sign. */
function quorumOf(plan: Plan, gateId: string, escalated: boolean): { approvers: ApproverEntry[]; need: number } | undefined {
  const approval = plan.phases.find((p) => p.gate?.id === gateId)?.gate?.approval;
  if (!approval) return undefined;
  const list = escalated && approval.escalate ? approval.escalate : approval;
  const keyed = list.approvers.filter((a) => approverKeys(a).length > 0);
  if (keyed.length === 0) return undefined;
  // A gate of keyed and plain-name approvers: as many keyed signatures as the quorum, at most all keyed ones.
  return { approvers: keyed, need: Math.min(list.required ?? 1, keyed.length) };
}

/** Which gates' quorums a revision needs, and why (the guarded changes). */
export function revisionQuorums(ctx: Pick<RevisionSigningContext, 'current' | 'decided' | 'escalated'>, changes: readonly PlanChange[]): GateQuorum[] {
  const need = new Map<string, string[]>();
  const undecided = ctx.current.phases.flatMap((p) => (p.gate && !ctx.decided.has(p.gate.id) ? [p.gate.id] : []));
  for (const c of changes) {
    if (!c.guard) continue;
    const gates = c.guard === 'run' ? undecided : [c.guard.gate];
    for (const g of gates) need.set(g, [...(need.get(g) ?? []), c.what]);
  }
  const out: GateQuorum[] = [];
  for (const [gate, why] of need) {
    const q = quorumOf(ctx.current, gate, ctx.escalated.has(gate));
    if (q) out.push({ gate, ...q, why });
  }
  return out;
}

export function authorizeRevision(ctx: RevisionSigningContext, input: RevisionSignatures): RevisionAuthorization {
  const changes = planChanges(ctx.current, ctx.next);
  const quorums = revisionQuorums(ctx, changes);
  const sigs = input.signatures ?? [];
  if (quorums.length === 0) {
    if (sigs.length) return { ok: false, changes, reason: 'the revision carries signatures, but changes nothing that needs them (approvals, keys, git, notify, baseDir): send it without' };
    return { ok: true, changes, quorums, signers: [], signatureIds: [] };
  }
  const needs = quorums.map((q) => `${q.need} of gate ${q.gate}'s current approvers (${q.approvers.map(approverName).join(', ')}) for ${q.why.join(', ')}`).join('; ');
  const how = `print the statement with \`sparky revise ${ctx.run} PLAN --statement\`, have them sign it (ssh-keygen -Y sign -n sparky-gate), then send \`sparky revise ${ctx.run} PLAN --as NAME --signed-at TIME --signature FILE…\` (or sign here with --key)`;
  if (sigs.length === 0) return { ok: false, changes, reason: `the revision changes what only approvers may change: it needs the signatures of ${needs}; ${how}` };
  if (!Array.isArray(sigs) || sigs.some((s) => typeof s !== 'string')) return { ok: false, changes, reason: '"signatures" must be a list of armored SSH signatures' };
  if (typeof input.signedAt !== 'string' || !ISO_TIME_RE.test(input.signedAt)) {
    return { ok: false, changes, reason: `"signedAt" must be the time line of the signed revision statement (ISO 8601 UTC), not ${JSON.stringify(input.signedAt)}` };
  }
  if (Date.parse(input.signedAt) > Date.parse(ctx.now) + CLOCK_SKEW_MS) return { ok: false, changes, reason: `the statement's time ${input.signedAt} is in the future (now ${ctx.now})` };
  const statement = buildRevisionStatement({
    plan: ctx.current.name, run: ctx.run, revision: ctx.revision, planDigest: ctx.planDigest, newPlanDigest: ctx.newPlanDigest,
    changes: changeWords(changes), time: input.signedAt,
  });
  const fingerprints: string[] = [];
  const ids: string[] = [];
  // A passkey signature carries no key: it is checked against the passkeys of the approvers asked to sign.
  const passkeys = quorums.flatMap((q) => q.approvers.flatMap((a) => listedKeys(a).filter((k): k is WebauthnPublicKey => k.type === 'webauthn')));
  for (const [i, sig] of sigs.entries()) {
    const verified = isWebauthnSignature(sig) ? passkeySignature(statement, sig, passkeys) : sshSignature(statement, sig);
    if (!verified.ok) return { ok: false, changes, reason: `signature ${i + 1}: ${verified.reason} (it must sign exactly what \`sparky revise ${ctx.run} PLAN --statement --time ${input.signedAt}\` prints)` };
    const r = verified;
    const id = verified.id;
    if (ctx.used?.has(id) || ids.includes(id)) return { ok: false, changes, reason: `signature ${i + 1} (key ${r.fingerprint}) already counted: each signature counts once per run` };
    ids.push(id);
    fingerprints.push(r.fingerprint);
  }
  const signers: { gate: string; approvers: { name: string; fingerprint: string }[] }[] = [];
  const short: string[] = [];
  for (const q of quorums) {
    const by = q.approvers.flatMap((a) => {
      const fp = listedKeys(a).map(keyFingerprint).find((f) => fingerprints.includes(f));
      return fp ? [{ name: approverName(a), fingerprint: fp }] : [];
    });
    signers.push({ gate: q.gate, approvers: by });
    if (by.length < q.need) {
      short.push(`gate ${q.gate}: ${by.length} of the ${q.need} signatures needed from its current approvers (${q.approvers.map(approverName).join(', ')})${by.length ? `; signed by ${by.map((b) => b.name).join(', ')}` : ''}`);
    }
  }
  const counted = new Set(signers.flatMap((s) => s.approvers.map((a) => a.fingerprint)));
  const stray = fingerprints.filter((f) => !counted.has(f));
  if (stray.length) return { ok: false, changes, reason: `signed with key ${stray.join(', ')}, which is not a key of a current approver whose agreement this revision needs (${needs})` };
  if (short.length) return { ok: false, changes, reason: `not enough signatures: ${short.join('; ')}; ${how}` };
  return { ok: true, changes, quorums, signers, signatureIds: ids };
}

type Verified = { ok: true; fingerprint: string; id: string } | { ok: false; reason: string };

function sshSignature(statement: string, sig: string): Verified {
  const r = verifySshsig(statement, sig);
  return r.ok ? { ok: true, fingerprint: r.fingerprint, id: signatureId(sig)! } : r;
}

function passkeySignature(statement: string, sig: string, passkeys: WebauthnPublicKey[]): Verified {
  const r = verifyPasskeySignature(statement, sig, passkeys);
  if (!r.ok) return { ok: false, reason: r.unknownCredential !== undefined ? `${r.reason}, which is not a passkey of an approver whose agreement this revision needs` : r.reason };
  return { ok: true, fingerprint: keyFingerprint(r.key), id: r.signatureId };
}
