// The checks a workflow makes on a gate decision before it counts: a signature by one of the
// approver's listed keys over the canonical statement (verifyDecision), and no approval by the
// person who started the run where the gate says preventSelfApproval (selfApprovalRefusal). Also the
// record the run keeps of each counted decision, which `sparky verify` re-checks from the history.
// Pure and deterministic (pure-JS ed25519/sha2), for workflow code.
//
// Decision inputs (approveGate / rejectGate signals, decideGate update) gain two optional fields:
//   signature  the armored SSHSIG text of `ssh-keygen -Y sign -n sparky-gate` over the statement, or
//              the armored passkey assertion the board makes (common/webauthn.ts: its challenge is
//              the statement's sha256)
//   signedAt   the statement's `time:` line (ISO 8601 UTC), so the workflow rebuilds the same bytes
// Both are required when the approver has a key in the plan; either kind of key the plan lists counts.
import { approverKeys, approverName, type ApproverEntry } from './approvers.ts';
import { buildStartStatement, buildStatement, ISO_TIME_RE, type StatementFields } from './gate-statement.ts';
import { keyFingerprint, parseListedKey, type ListedKey } from './keys.ts';
import { fingerprint, sameKey } from './ssh-keys.ts';
import { parseSshsig, verifySshsig } from './sshsig.ts';
import { isWebauthnSignature, verifyPasskeySignature, type WebauthnPublicKey } from './webauthn.ts';
import { bytesToHex } from '@noble/hashes/utils.js';

/** The fields a signed decision adds to the signal/update input. */
export interface SignedFields {
  signature?: string;
  signedAt?: string;
}

export type VerifyDecisionResult =
  /** `signed`: false for an approver without a key (a plain name, as before keys existed). */
  | { ok: true; signed: boolean; fingerprint?: string; signatureId?: string; keyType?: ListedKey['type'] }
  | { ok: false; reason: string };

export interface VerifyDecisionArgs {
  /** The gate's entry for the approver the decision names. */
  approverEntry: ApproverEntry;
  /** The statement as the run sees it; `time` is the decision's signedAt. */
  statementFields: Omit<StatementFields, 'time'> & { time?: string };
  signature?: string;
  /** Optional window for signedAt (ISO): a statement older than the gate's wait, or from the future, is refused. */
  notBefore?: string;
  notAfter?: string;
}

/**
 * What makes a signature the same signature however it is armored: its raw ed25519 bytes (hex). An
 * ed25519 signature is a function of key and message, so the same statement signed twice by the same
 * key is the same id. Undefined for text that is not an SSHSIG.
 */
export function signatureId(armored: string): string | undefined {
  const parsed = parseSshsig(armored);
  return 'error' in parsed ? undefined : bytesToHex(parsed.signature);
}

export function listedKeys(entry: ApproverEntry): ListedKey[] {
  return approverKeys(entry).flatMap((line) => {
    const key = parseListedKey(line);
    return 'error' in key ? [] : [key];
  });
}

export function verifyDecision(args: VerifyDecisionArgs): VerifyDecisionResult {
  const name = approverName(args.approverEntry);
  const keys = listedKeys(args.approverEntry);
  if (keys.length === 0) return { ok: true, signed: false };
  const f = args.statementFields;
  const passkeys = keys.filter((k): k is WebauthnPublicKey => k.type === 'webauthn');
  const sshHow = `sign the output of \`sparky statement ${f.run} ${f.gate} --decision ${f.decision}${f.comment ? ' --comment …' : ''}\` with ssh-keygen -Y sign -n sparky-gate, or use \`sparky ${f.decision} … --key\``;
  const how = passkeys.length === keys.length ? 'sign it with your passkey on the Sparky board (`sparky board`)'
    : passkeys.length ? `${sshHow}; or sign it with your passkey on the Sparky board` : sshHow;
  if (typeof args.signature !== 'string' || args.signature.trim() === '') {
    return { ok: false, reason: `${name} has a key in the plan: a decision in their name needs "signature" and "signedAt" (${how})` };
  }
  if (typeof f.time !== 'string' || !ISO_TIME_RE.test(f.time)) {
    return { ok: false, reason: `"signedAt" must be the time line of the signed statement (ISO 8601 UTC like 2026-11-30T11:00:00.000Z), not ${JSON.stringify(f.time)}` };
  }
  const passkey = isWebauthnSignature(args.signature);
  if (!passkey) {
    const parsed = parseSshsig(args.signature);
    if ('error' in parsed) return { ok: false, reason: `bad signature: ${parsed.error}` };
    if (!keys.some((k) => k.type === 'ssh-ed25519' && sameKey(k, parsed.publicKey))) {
      return { ok: false, reason: `signed with key ${fingerprint(parsed.publicKey)}, which is not a key of ${name} in the plan (listed: ${keys.map(keyFingerprint).join(', ')})` };
    }
  } else if (passkeys.length === 0) {
    return { ok: false, reason: `signed with a passkey, but ${name} has no passkey in the plan (listed: ${keys.map(keyFingerprint).join(', ')}): ${sshHow}` };
  }
  if (args.notBefore !== undefined && f.time < args.notBefore) {
    return { ok: false, reason: `the statement was made at ${f.time}, before the gate began waiting (${args.notBefore}): sign a new statement` };
  }
  if (args.notAfter !== undefined && f.time > args.notAfter) {
    return { ok: false, reason: `the statement's time ${f.time} is in the future (now ${args.notAfter})` };
  }
  let statement: string;
  try {
    statement = buildStatement({ ...f, time: f.time });
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (passkey) {
    const r = verifyPasskeySignature(statement, args.signature, passkeys);
    if (!r.ok) {
      const why = r.unknownCredential !== undefined
        ? `${r.reason}, which is not a passkey of ${name} in the plan (listed: ${passkeys.map(keyFingerprint).join(', ')})` : r.reason;
      return { ok: false, reason: `bad signature: ${why}` };
    }
    return { ok: true, signed: true, fingerprint: keyFingerprint(r.key), signatureId: r.signatureId, keyType: 'webauthn' };
  }
  const result = verifySshsig(statement, args.signature);
  if (!result.ok) return { ok: false, reason: `bad signature: ${result.reason}` };
  return { ok: true, signed: true, fingerprint: result.fingerprint, signatureId: signatureId(args.signature), keyType: 'ssh-ed25519' };
}

/** Who started the run, as recorded at start (`options.startedBy`, set by `sparky run`). */
export interface StartedBy extends SignedFields { name: string }
/** The starter after verification: the fingerprint only when the start statement was signed and verified. */
export interface RunStarter { name: string; fingerprint?: string }

export function verifyStarter(startedBy: unknown, fields: { plan: string; planDigest: string; run: string }):
  { ok: true; starter: RunStarter } | { ok: false; reason: string } {
  const by = startedBy as Partial<StartedBy> | null;
  if (by === null || typeof by !== 'object' || typeof by.name !== 'string' || by.name === '') {
    return { ok: false, reason: 'options.startedBy must be {"name": "...", "signature"?: "...", "signedAt"?: "..."}' };
  }
  if (by.signature === undefined) return { ok: true, starter: { name: by.name } };
  if (typeof by.signedAt !== 'string' || !ISO_TIME_RE.test(by.signedAt)) {
    return { ok: false, reason: 'options.startedBy.signedAt must be the time line of the signed start statement' };
  }
  let statement: string;
  try {
    statement = buildStartStatement({ ...fields, by: by.name, time: by.signedAt });
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const result = verifySshsig(statement, by.signature);
  if (!result.ok) return { ok: false, reason: `options.startedBy: bad signature: ${result.reason}` };
  return { ok: true, starter: { name: by.name, fingerprint: result.fingerprint } };
}

/** Plan facts the starter rule needs (a structural subset of Plan, so common/ does not import plan/). */
export interface StarterPlan {
  starters?: ApproverEntry[];
  phases: { gate?: { id: string; preventSelfApproval?: boolean; approval?: { approvers: ApproverEntry[]; escalate?: { approvers: ApproverEntry[] } } } }[];
}

/** Every approver and starter entry of the plan that lists a key. */
export function keyedPeople(plan: StarterPlan): ApproverEntry[] {
  const gates = plan.phases.flatMap((p) => (p.gate?.approval ? [...p.gate.approval.approvers, ...(p.gate.approval.escalate?.approvers ?? [])] : []));
  return [...(plan.starters ?? []), ...gates].filter((e) => approverKeys(e).length > 0);
}

/** The gates whose preventSelfApproval can only hold against a starter known by a listed key. */
export function keyedSelfApprovalGates(plan: StarterPlan): string[] {
  return plan.phases.flatMap((p) => {
    const g = p.gate;
    if (!g?.preventSelfApproval || !g.approval) return [];
    const all = [...g.approval.approvers, ...(g.approval.escalate?.approvers ?? [])];
    return all.some((e) => approverKeys(e).length > 0) ? [g.id] : [];
  });
}

/**
 * Rules of release 0.2: where a gate with keyed approvers has preventSelfApproval, the run's starter
 * must be known by a key the plan lists (an approver's or a `starters` entry's), under the name the
 * plan gives that key; otherwise anyone could start the run as "dave", or sign with a throwaway key,
 * and approve their own run. Returns the refusal, or undefined.
 */
export function starterRefusal(plan: StarterPlan, starter: RunStarter | undefined): string | undefined {
  const gates = keyedSelfApprovalGates(plan);
  if (gates.length === 0) return undefined;
  const how = 'start it with `sparky run PLAN --as NAME --key ~/.ssh/id_ed25519` (or `sparky input PLAN --id ID --as NAME --key …` for `temporal workflow start`), with a key the plan lists for NAME (an approver, or `starters`)';
  const rule = `gate${gates.length === 1 ? '' : 's'} ${gates.join(', ')} ${gates.length === 1 ? 'has' : 'have'} preventSelfApproval with keyed approvers: the run's starter must be known by a key the plan lists`;
  if (!starter) return `${rule}, and this run names no starter (options.startedBy): ${how}`;
  if (!starter.fingerprint) return `${rule}, and ${starter.name}'s start is not signed: ${how}`;
  const owners = keyedPeople(plan).filter((e) => listedKeys(e).some((k) => keyFingerprint(k) === starter.fingerprint)).map(approverName);
  if (owners.length === 0) return `${rule}, and key ${starter.fingerprint} (${starter.name}) is not listed in the plan: ${how}`;
  if (!owners.includes(starter.name)) return `${rule}: key ${starter.fingerprint} belongs to ${[...new Set(owners)].join(', ')} in the plan, not to ${starter.name}`;
  return undefined;
}

/**
 * Why an approval must be refused under preventSelfApproval, or undefined. The starter is matched
 * by name, and by key where the start was signed: the same key under another name is the same person.
 */
export function selfApprovalRefusal(args: {
  gate: string; starter: RunStarter | undefined; approverEntry: ApproverEntry; decision: 'approve' | 'reject'; fingerprint?: string;
}): string | undefined {
  if (args.decision !== 'approve') return undefined;
  if (!args.starter) {
    return `gate ${args.gate} has preventSelfApproval, but this run records no starter (options.startedBy): start runs with \`sparky run\` so the starter is known`;
  }
  const name = approverName(args.approverEntry);
  const rule = `gate ${args.gate} has preventSelfApproval: someone other than the person who started the run must approve`;
  if (name === args.starter.name) return `${name} started this run; ${rule}`;
  const starterKey = args.starter.fingerprint;
  if (starterKey !== undefined
    && (args.fingerprint === starterKey || listedKeys(args.approverEntry).some((k) => keyFingerprint(k) === starterKey))) {
    return `${name}'s key ${starterKey} started this run (as ${args.starter.name}); ${rule}`;
  }
  return undefined;
}

/**
 * The run's record of a signed decision that counted, kept in the history (memo DECISIONS_MEMO_KEY,
 * the whole list each time) so `sparky verify` can tell counted decisions from ignored signals.
 * Runs of release 0.2 also record what verify needs to apply the same rules: each gate round's start
 * (RoundRecord), each decided gate (GateDecidedRecord), each accepted revision with its signatures
 * (RevisionRecord) and each rework an operator asked for (ReworkRecord). A record without `kind` is a
 * decision.
 */
export type RunRecord = DecisionRecord | RoundRecord | GateDecidedRecord | RevisionRecord | ReworkRecord;

/** A gate's round began: its first wait, a fresh quorum after rework, an escalation, or checks a revision changed. */
export interface RoundRecord { kind: 'round'; gate: string; round: number; at: string; escalated: boolean; cause: 'waiting' | 'escalated' | 'rework' | 'revised'; checksDigest: string }
/** A gate reached its decision (approved: later revisions may not touch it). */
export interface GateDecidedRecord { kind: 'decided'; gate: string; state: 'approved' | 'rejected'; at: string; round?: number }
/** An accepted plan revision, with the signatures that let it change guarded fields. */
export interface RevisionRecord {
  kind: 'revision'; revision: number; by: string; at: string; planDigest: string; newPlanDigest: string; changes: string[];
  signedAt?: string; signatures?: string[];
  /** Who signed, per gate whose quorum the revision needed. */
  signers?: { gate: string; approvers: { name: string; fingerprint: string }[] }[];
}
/** An operator sent workstreams of a gate's phase back (from checks-failed or a waiting gate). */
export interface ReworkRecord { kind: 'rework'; gate: string; by: string; at: string; rework: string[]; reason: string }

export interface DecisionRecord {
  kind?: 'decision';
  gate: string;
  /** Rules of release 0.2: the round the decision counted in, and a rejection's rework list. */
  round?: number;
  rework?: string[];
  approver: string;
  decision: 'approve' | 'reject';
  comment?: string;
  surface: 'signal' | 'update';
  at: string;
  signedAt?: string;
  signature?: string;
  fingerprint?: string;
  planDigest: string;
  checksDigest: string;
}

export const DECISIONS_MEMO_KEY = 'sparkyDecisions';

/**
 * The patch (a marker in the first workflow task) that marks a run of release 0.2 or later: it follows
 * the 0.2 rules (rounds, signatures counted once, signed revisions, a starter known by key); runs of
 * 0.1 replay without it and keep theirs (workflows/signing.ts).
 */
export const SIGNED_ROUNDS_PATCH = 'sparky-signed-rounds';
