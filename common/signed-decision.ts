// The checks a workflow makes on a gate decision before it counts: a signature by one of the
// approver's listed keys over the canonical statement (verifyDecision), and no approval by the
// person who started the run where the gate says preventSelfApproval (selfApprovalRefusal). Also the
// record the run keeps of each counted decision, which `sparky verify` re-checks from the history.
// Pure and deterministic (pure-JS ed25519/sha2), for workflow code.
//
// Decision inputs (approveGate / rejectGate signals, decideGate update) gain two optional fields:
//   signature  the armored SSHSIG text of `ssh-keygen -Y sign -n sparky-gate` over the statement
//   signedAt   the statement's `time:` line (ISO 8601 UTC), so the workflow rebuilds the same bytes
// Both are required when the approver has a key in the plan.
import { approverKeys, approverName, type ApproverEntry } from './approvers.ts';
import { buildStartStatement, buildStatement, ISO_TIME_RE, type StatementFields } from './gate-statement.ts';
import { fingerprint, parsePublicKey, sameKey, type SshPublicKey } from './ssh-keys.ts';
import { parseSshsig, verifySshsig } from './sshsig.ts';

/** The fields a signed decision adds to the signal/update input. */
export interface SignedFields {
  signature?: string;
  signedAt?: string;
}

export type VerifyDecisionResult =
  /** `signed`: false for an approver without a key (a plain name, as before keys existed). */
  | { ok: true; signed: boolean; fingerprint?: string }
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

export function listedKeys(entry: ApproverEntry): SshPublicKey[] {
  return approverKeys(entry).flatMap((line) => {
    const key = parsePublicKey(line);
    return 'error' in key ? [] : [key];
  });
}

export function verifyDecision(args: VerifyDecisionArgs): VerifyDecisionResult {
  const name = approverName(args.approverEntry);
  const keys = listedKeys(args.approverEntry);
  if (keys.length === 0) return { ok: true, signed: false };
  const f = args.statementFields;
  const how = `sign the output of \`sparky statement ${f.run} ${f.gate} --decision ${f.decision}${f.comment ? ' --comment …' : ''}\` with ssh-keygen -Y sign -n sparky-gate, or use \`sparky ${f.decision} … --key\``;
  if (typeof args.signature !== 'string' || args.signature.trim() === '') {
    return { ok: false, reason: `${name} has a key in the plan: a decision in their name needs "signature" and "signedAt" (${how})` };
  }
  if (typeof f.time !== 'string' || !ISO_TIME_RE.test(f.time)) {
    return { ok: false, reason: `"signedAt" must be the time line of the signed statement (ISO 8601 UTC like 2026-11-30T11:00:00.000Z), not ${JSON.stringify(f.time)}` };
  }
  const parsed = parseSshsig(args.signature);
  if ('error' in parsed) return { ok: false, reason: `bad signature: ${parsed.error}` };
  if (!keys.some((k) => sameKey(k, parsed.publicKey))) {
    return { ok: false, reason: `signed with key ${fingerprint(parsed.publicKey)}, which is not a key of ${name} in the plan (listed: ${keys.map((k) => fingerprint(k)).join(', ')})` };
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
  const result = verifySshsig(statement, args.signature);
  if (!result.ok) return { ok: false, reason: `bad signature: ${result.reason}` };
  return { ok: true, signed: true, fingerprint: result.fingerprint };
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
    && (args.fingerprint === starterKey || listedKeys(args.approverEntry).some((k) => fingerprint(k) === starterKey))) {
    return `${name}'s key ${starterKey} started this run (as ${args.starter.name}); ${rule}`;
  }
  return undefined;
}

/**
 * The run's record of a signed decision that counted, kept in the history (memo DECISIONS_MEMO_KEY,
 * the whole list each time) so `sparky verify` can tell counted decisions from ignored signals.
 */
export interface DecisionRecord {
  gate: string;
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
