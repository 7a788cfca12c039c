// OpenSSH allowed_signers files (ssh-keygen(1), "ALLOWED SIGNERS"): `principals [options] keytype
// base64 [comment]` per line. A plan (or a gate) may name one; the loader (plan/load.ts) reads it and
// gives each plain-name approver the ed25519 keys the file lists for that name in the sparky-gate
// namespace, then drops the field, so the workflow sees keys as data and never a path. Pure: the
// loader passes the file text in. Certificate authorities and non-ed25519 keys are not supported.
import { parsePublicKey } from '../common/ssh-keys.ts';
import { SPARKY_NAMESPACE } from '../common/sshsig.ts';
import { approverName, type ApproverEntry } from '../common/approvers.ts';
import type { PathSegment } from './field-path.ts';
import type { Plan } from './schema.ts';

export interface SignerLine { line: number; principals: string[]; key: string; namespaces?: string[] }
export interface SignersFile { signers: SignerLine[]; skipped: { line: number; principals: string[]; why: string }[]; errors: { line: number; message: string }[] }

/** Reads one field, keeping double-quoted parts together (`namespaces="git,sparky-gate"`). */
function fields(text: string): string[] {
  const out: string[] = [];
  let cur = ''; let quoted = false;
  for (const c of text) {
    if (c === '"') { quoted = !quoted; cur += c; continue; }
    if (!quoted && /\s/.test(c)) { if (cur) out.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** Splits on commas outside quotes. */
function commaList(text: string): string[] {
  const out: string[] = [];
  let cur = ''; let quoted = false;
  for (const c of text) {
    if (c === '"') { quoted = !quoted; continue; }
    if (c === ',' && !quoted) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

/** A (possibly quoted) comma-separated list: `"alice,al*"` → alice, al*. */
function plainList(text: string): string[] {
  return text.replace(/"/g, '').split(',').filter((s) => s !== '');
}

/** OpenSSH pattern lists: `*` and `?` wildcards, `!` negates. */
export function matchPatternList(value: string, patterns: string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (re.test(value)) { if (negated) return false; matched = true; }
  }
  return matched;
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-|rsa-)/;

export function parseAllowedSigners(text: string): SignersFile {
  const result: SignersFile = { signers: [], skipped: [], errors: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const parts = fields(trimmed);
    const principals = plainList(parts[0] ?? '');
    let at = 1;
    let options: string[] = [];
    if (parts[at] !== undefined && !KEY_TYPE.test(parts[at])) { options = commaList(parts[at]); at += 1; }
    const [type, b64] = [parts[at], parts[at + 1]];
    if (type === undefined || b64 === undefined) { result.errors.push({ line, message: 'expected "principals [options] keytype key [comment]"' }); return; }
    if (options.some((o) => o.toLowerCase() === 'cert-authority')) { result.skipped.push({ line, principals, why: 'cert-authority lines (SSH certificates) are not supported' }); return; }
    const ns = options.find((o) => o.toLowerCase().startsWith('namespaces='));
    const namespaces = ns === undefined ? undefined : plainList(ns.slice('namespaces='.length));
    if (type !== 'ssh-ed25519') { result.skipped.push({ line, principals, why: `${type} keys are not supported (ssh-ed25519 only)` }); return; }
    const key = parsePublicKey(`${type} ${b64}`);
    if ('error' in key) { result.errors.push({ line, message: key.error }); return; }
    result.signers.push({ line, principals, key: `${type} ${b64}`, ...(namespaces ? { namespaces } : {}) });
  });
  return result;
}

/** The ed25519 keys the file lists for `name` in the sparky-gate namespace (in file order, no repeats). */
export function keysFor(file: SignersFile, name: string): string[] {
  const keys = file.signers
    .filter((s) => matchPatternList(name, s.principals) && (!s.namespaces || matchPatternList(SPARKY_NAMESPACE, s.namespaces)))
    .map((s) => s.key);
  return [...new Set(keys)];
}

export interface SignerProblem { path: PathSegment[]; message: string }

/**
 * Puts the keys of the named allowed_signers files into the approvers (gate file first, else the
 * plan's) and removes every `allowedSigners`. `read(file)` gives a file's parsed content (or why it
 * cannot be read); `file` is the field's value as written. A plain-name approver the file has no key
 * for is an error: naming the file means every decision at that gate is signed.
 */
export function applyAllowedSigners(plan: Plan, read: (file: string) => SignersFile | { error: string }): { plan: Plan; problems: SignerProblem[] } {
  const problems: SignerProblem[] = [];
  const cache = new Map<string, SignersFile | { error: string }>();
  const load = (file: string, at: PathSegment[]): SignersFile | undefined => {
    if (!cache.has(file)) {
      const parsed = read(file);
      cache.set(file, parsed);
      if ('error' in parsed) problems.push({ path: at, message: `cannot read allowed_signers file ${file}: ${parsed.error}` });
      else for (const e of parsed.errors) problems.push({ path: at, message: `${file}:${e.line}: ${e.message}` });
    }
    const got = cache.get(file)!;
    return 'error' in got ? undefined : got;
  };
  const withKeys = (list: ApproverEntry[], file: SignersFile, fileName: string, at: PathSegment[]): ApproverEntry[] => list.map((entry, i) => {
    if (typeof entry !== 'string') return entry;
    const keys = keysFor(file, entry);
    if (keys.length === 0) {
      const skipped = file.skipped.filter((s) => matchPatternList(entry, s.principals)).map((s) => ` (line ${s.line}: ${s.why})`).join('');
      problems.push({ path: [...at, i], message: `approver "${approverName(entry)}" has no ssh-ed25519 key for namespace sparky-gate in ${fileName}${skipped}` });
      return entry;
    }
    return { name: entry, key: keys.length === 1 ? keys[0] : keys };
  });
  const { allowedSigners: planFile, ...rest } = plan;
  if (rest.starters && planFile !== undefined && rest.starters.some((s) => typeof s === 'string')) {
    const file = load(planFile, ['allowedSigners']);
    if (file) rest.starters = withKeys(rest.starters, file, planFile, ['starters']);
  }
  const phases = plan.phases.map((phase, p) => {
    if (!phase.gate) return phase;
    const { allowedSigners: gateFile, ...gate } = phase.gate;
    const fileName = gateFile ?? planFile;
    if (fileName === undefined || !gate.approval) return { ...phase, gate };
    const file = load(fileName, gateFile !== undefined ? ['phases', p, 'gate', 'allowedSigners'] : ['allowedSigners']);
    if (!file) return { ...phase, gate };
    const at = ['phases', p, 'gate', 'approval'];
    const approval = { ...gate.approval, approvers: withKeys(gate.approval.approvers, file, fileName, [...at, 'approvers']) };
    if (approval.escalate) approval.escalate = { ...approval.escalate, approvers: withKeys(approval.escalate.approvers, file, fileName, [...at, 'escalate', 'approvers']) };
    return { ...phase, gate: { ...gate, approval } };
  });
  return { plan: { ...rest, phases }, problems };
}

/** A plan that still names allowed_signers files was not loaded by Sparky: the workflow cannot read files. */
export function unresolvedSigners(plan: Plan): SignerProblem[] {
  const out: SignerProblem[] = [];
  const why = 'an allowed_signers file is read when the plan file is loaded (sparky run / sparky input); a plan started by hand must list the keys in its approvers';
  if (plan.allowedSigners !== undefined) out.push({ path: ['allowedSigners'], message: why });
  plan.phases.forEach((phase, p) => {
    if (phase.gate?.allowedSigners !== undefined) out.push({ path: ['phases', p, 'gate', 'allowedSigners'], message: why });
  });
  return out;
}
