// What a signed gate decision signs: a canonical statement, exact bytes, one `field: value` line
// each, ending in a newline. `sparky statement` prints it, people sign it with
//   ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519
// and the workflow and `sparky verify` rebuild it from the run's data to check the signature. It
// binds the decision to one plan (name and digest of its canonical JSON), one run, one gate, one
// decision with its comment, the gate's check results (their digest) and the signing time, so a
// signature cannot be replayed on another run, gate, decision, comment or revision of the plan.
// Version 2 (runs started on release 0.2 and later) also names the gate's round — a number that
// changes at every fresh quorum (after a rework) and at escalation — and a rejection's rework list,
// so a vote cannot be replayed into a later round and a relayed rejection cannot change its scope.
// A plan revision that touches approvals, keys, git, notify or baseDir is signed too: its statement
// names the run, the revision it becomes, the old and new plan digests and the change list.
import type { GateCheckResult } from './activity-types.ts';
import { jsonDigest } from './canonical-json.ts';

export const STATEMENT_HEADER = 'sparky gate decision v1';
export const STATEMENT_HEADER_V2 = 'sparky gate decision v2';
export const REVISION_STATEMENT_HEADER = 'sparky plan revision v1';
export const START_STATEMENT_HEADER = 'sparky run start v1';

export interface StatementFields {
  plan: string;
  /** `sha256:<hex>` of the canonical JSON of the validated plan the run follows (planDigest). */
  planDigest: string;
  /** The run's workflow id (`sparky-<plan>-<run id>`). */
  run: string;
  gate: string;
  decision: 'approve' | 'reject';
  /** The approval comment or the rejection reason ('' when none). */
  comment: string;
  /** `sha256:<hex>` of the gate's check results (checksDigest). */
  checksDigest: string;
  /** When the statement was made: ISO 8601 UTC (`2026-11-30T11:00:00.000Z`); the decision carries it as `signedAt`. */
  time: string;
  /**
   * Version 2: the gate's round (GateStatus.round). Absent only for runs of release 0.1, whose
   * statements (v1) name no round and no rework list.
   */
  round?: number;
  /** Version 2: the workstreams a rejection sends back ([] = the whole phase; always [] for an approval). */
  rework?: readonly string[];
}

/** A rework list as statements name it: distinct ids, sorted, so the same scope is always the same bytes. */
export function reworkLine(rework: readonly string[] | undefined): string {
  return JSON.stringify([...new Set(rework ?? [])].sort());
}

export const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** The digest of a plan as the run holds it (after validation and path resolution). */
export function planDigest(plan: unknown): string {
  return jsonDigest(plan);
}

/** The digest of a gate's check results, in the plan's order (no checks: the digest of `[]`). */
export function checksDigest(checks: readonly GateCheckResult[] | undefined): string {
  return jsonDigest(checks ?? []);
}

function oneLine(name: string, value: string): string {
  if (typeof value !== 'string' || /[\r\n]/.test(value)) throw new Error(`statement field ${name} must be text on one line`);
  return `${name}: ${value}\n`;
}

/** The exact text to sign. Throws when a field is malformed (a newline in an id, a bad time). */
export function buildStatement(f: StatementFields): string {
  if (f.decision !== 'approve' && f.decision !== 'reject') throw new Error(`statement decision must be approve or reject, not ${JSON.stringify(f.decision)}`);
  if (!ISO_TIME_RE.test(f.time)) throw new Error(`statement time must be ISO 8601 UTC like 2026-11-30T11:00:00.000Z, not ${JSON.stringify(f.time)}`);
  const v2 = f.round !== undefined;
  if (v2 && (!Number.isInteger(f.round) || (f.round as number) < 1)) throw new Error(`statement round must be a whole number from 1, not ${JSON.stringify(f.round)}`);
  if (!v2 && f.rework?.length) throw new Error('a statement that names a rework list must name the round too');
  return `${v2 ? STATEMENT_HEADER_V2 : STATEMENT_HEADER}\n${oneLine('plan', f.plan)}${oneLine('plan-digest', f.planDigest)}${oneLine('run', f.run)}`
    + `${oneLine('gate', f.gate)}${v2 ? oneLine('round', String(f.round)) : ''}${oneLine('decision', f.decision)}`
    // Free text: JSON-quoted, so newlines and look-alike lines cannot forge other fields.
    + `comment: ${JSON.stringify(f.comment ?? '')}\n`
    + `${v2 ? `rework: ${reworkLine(f.decision === 'reject' ? f.rework : [])}\n` : ''}`
    + `${oneLine('checks-digest', f.checksDigest)}${oneLine('time', f.time)}`;
}

export interface RevisionStatementFields {
  plan: string;
  run: string;
  /** The revision number the plan becomes (status.revision + 1). */
  revision: number;
  /** The digest of the plan in force, and of the revised plan (both as the run holds them). */
  planDigest: string;
  newPlanDigest: string;
  /** What the revision changes, in words (common/plan-changes.ts planChanges): the same list on both sides. */
  changes: readonly string[];
  time: string;
}

/** What approvers sign to let a revision change approvals, keys, git, notify or baseDir (`sparky revise --statement`). */
export function buildRevisionStatement(f: RevisionStatementFields): string {
  if (!ISO_TIME_RE.test(f.time)) throw new Error(`statement time must be ISO 8601 UTC like 2026-11-30T11:00:00.000Z, not ${JSON.stringify(f.time)}`);
  if (!Number.isInteger(f.revision) || f.revision < 1) throw new Error(`statement revision must be a whole number from 1, not ${JSON.stringify(f.revision)}`);
  return `${REVISION_STATEMENT_HEADER}\n${oneLine('plan', f.plan)}${oneLine('run', f.run)}${oneLine('revision', String(f.revision))}`
    + `${oneLine('plan-digest', f.planDigest)}${oneLine('new-plan-digest', f.newPlanDigest)}`
    + `changes: ${JSON.stringify([...f.changes])}\n${oneLine('time', f.time)}`;
}

export interface StartStatementFields { plan: string; planDigest: string; run: string; by: string; time: string }

/** What the person starting a run signs (`sparky run --key`), so preventSelfApproval knows them by key. */
export function buildStartStatement(f: StartStatementFields): string {
  if (!ISO_TIME_RE.test(f.time)) throw new Error(`statement time must be ISO 8601 UTC, not ${JSON.stringify(f.time)}`);
  return `${START_STATEMENT_HEADER}\n${oneLine('plan', f.plan)}${oneLine('plan-digest', f.planDigest)}${oneLine('run', f.run)}`
    + `${oneLine('by', f.by)}${oneLine('time', f.time)}`;
}
