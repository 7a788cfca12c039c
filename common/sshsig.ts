// SSHSIG, the signature format of `ssh-keygen -Y sign` (OpenSSH's PROTOCOL.sshsig), verified in pure
// JS so workflow code can check a signature deterministically. An armored signature decodes to
//   "SSHSIG" · uint32 version 1 · string public key · string namespace · string reserved ·
//   string hash algorithm · string signature (string "ssh-ed25519" · string 64 bytes)
// and the ed25519 signature covers
//   "SSHSIG" · string namespace · string reserved · string hash algorithm · string H(message).
// Only ed25519 keys; hash sha512 (ssh-keygen's default) or sha256.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { base64Decode, concat, sshString, utf8, WireError, WireReader } from './bytes.ts';
import { ED25519_KEY_TYPE, fingerprint, fromBlob, type SshPublicKey } from './ssh-keys.ts';

/** The namespace every Sparky signature is made in: `ssh-keygen -Y sign -n sparky-gate`. */
export const SPARKY_NAMESPACE = 'sparky-gate';

const MAGIC = utf8('SSHSIG');
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const HASHES: Record<string, (m: Uint8Array) => Uint8Array> = { sha512, sha256 };

export interface ParsedSshsig {
  publicKey: SshPublicKey;
  namespace: string;
  reserved: Uint8Array;
  hashAlgorithm: string;
  signature: Uint8Array;
}

export type Parsed<T> = T | { error: string };

/** Decodes an armored SSHSIG (whitespace and line breaks anywhere are tolerated: pasted text). */
export function parseSshsig(armored: string): Parsed<ParsedSshsig> {
  if (typeof armored !== 'string') return { error: 'the signature must be the armored text of `ssh-keygen -Y sign`' };
  const start = armored.indexOf(BEGIN);
  const end = armored.indexOf(END);
  if (start < 0 || end < start) return { error: `not an SSH signature: expected the text between "${BEGIN}" and "${END}"` };
  const bytes = base64Decode(armored.slice(start + BEGIN.length, end));
  if (!bytes) return { error: 'the signature is not valid base64' };
  try {
    const r = new WireReader(bytes);
    const magic = r.raw(6);
    if (magic.some((b, i) => b !== MAGIC[i])) return { error: 'not an SSHSIG signature (bad magic)' };
    const version = r.uint32();
    if (version !== 1) return { error: `SSHSIG version ${version} is not supported (1 is)` };
    const key = fromBlob(r.string());
    if ('error' in key) return { error: `signature key: ${key.error}` };
    const namespace = r.text();
    const reserved = r.string();
    const hashAlgorithm = r.text();
    const sigBlob = new WireReader(r.string());
    const sigType = sigBlob.text();
    const signature = sigBlob.string();
    if (sigType !== ED25519_KEY_TYPE || signature.length !== 64) return { error: `signature type "${sigType}" is not supported: only ssh-ed25519` };
    return { publicKey: key, namespace, reserved, hashAlgorithm, signature };
  } catch (e) {
    if (e instanceof WireError) return { error: 'the signature is truncated' };
    throw e;
  }
}

export type SshsigResult = { ok: true; publicKey: SshPublicKey; fingerprint: string } | { ok: false; reason: string };

/**
 * Checks an armored SSHSIG over `message`: namespace, hash algorithm, and the ed25519 signature under
 * the key it carries. Which key that may be is the caller's question (verifyDecision answers it).
 */
export function verifySshsig(message: Uint8Array | string, armored: string, namespace = SPARKY_NAMESPACE): SshsigResult {
  const sig = parseSshsig(armored);
  if ('error' in sig) return { ok: false, reason: sig.error };
  if (sig.namespace !== namespace) {
    return { ok: false, reason: `the signature is for namespace "${sig.namespace}", not "${namespace}" (sign with ssh-keygen -Y sign -n ${namespace})` };
  }
  const hash = HASHES[sig.hashAlgorithm];
  if (!hash) return { ok: false, reason: `hash algorithm "${sig.hashAlgorithm}" is not supported (sha512 or sha256)` };
  const msg = typeof message === 'string' ? utf8(message) : message;
  const signed = concat(MAGIC, sshString(namespace), sshString(sig.reserved), sshString(sig.hashAlgorithm), sshString(hash(msg)));
  let valid = false;
  try {
    valid = ed25519.verify(sig.signature, signed, sig.publicKey.key, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: `the signature by ${fingerprint(sig.publicKey)} does not match the statement (signed for another run, gate, decision, comment or time, or altered)` };
  return { ok: true, publicKey: sig.publicKey, fingerprint: fingerprint(sig.publicKey) };
}
