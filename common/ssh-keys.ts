// OpenSSH ed25519 public keys as people write them (`ssh-ed25519 AAAA… alice@laptop`): parsing,
// and fingerprints exactly as `ssh-keygen -l` prints them (`SHA256:` + unpadded base64 of the sha256
// of the key blob). Pure: the workflow uses it to match a signature's key to the plan's approvers.
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode, base64Encode, bytesEqual, WireError, WireReader } from './bytes.ts';

export const ED25519_KEY_TYPE = 'ssh-ed25519';

export interface SshPublicKey {
  type: typeof ED25519_KEY_TYPE;
  /** The wire blob (string "ssh-ed25519", string key): what fingerprints and SSHSIG carry. */
  blob: Uint8Array;
  /** The raw 32-byte ed25519 key. */
  key: Uint8Array;
  comment?: string;
}

/** Parses `ssh-ed25519 <base64> [comment]`; a reason in words when it is not one. */
export function parsePublicKey(line: string): SshPublicKey | { error: string } {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || parts[0] === '') return { error: 'expected "ssh-ed25519 AAAA… [comment]" (an OpenSSH public key line)' };
  const [type, b64, ...rest] = parts;
  if (type !== ED25519_KEY_TYPE) return { error: `key type "${type}" is not supported: only ssh-ed25519 keys (ssh-keygen -t ed25519)` };
  const blob = base64Decode(b64);
  if (!blob) return { error: 'the key is not valid base64' };
  const decoded = fromBlob(blob);
  if ('error' in decoded) return decoded;
  return { ...decoded, ...(rest.length ? { comment: rest.join(' ') } : {}) };
}

/** The key in a wire blob (as found inside an SSHSIG signature). */
export function fromBlob(blob: Uint8Array): SshPublicKey | { error: string } {
  try {
    const r = new WireReader(blob);
    const type = r.text();
    if (type !== ED25519_KEY_TYPE) return { error: `key type "${type}" is not supported: only ssh-ed25519` };
    const key = r.string();
    if (key.length !== 32 || !r.done) return { error: 'not a well-formed ssh-ed25519 key (32 bytes expected)' };
    return { type: ED25519_KEY_TYPE, blob, key };
  } catch (e) {
    if (e instanceof WireError) return { error: 'not a well-formed ssh-ed25519 key (truncated)' };
    throw e;
  }
}

/** `SHA256:…` as `ssh-keygen -l -f key.pub` prints it. */
export function fingerprint(key: { blob: Uint8Array } | Uint8Array): string {
  const blob = key instanceof Uint8Array ? key : key.blob;
  return `SHA256:${base64Encode(sha256(blob), false)}`;
}

/** The key line without its comment (`ssh-ed25519 AAAA…`). */
export function keyLine(key: SshPublicKey): string {
  return `${key.type} ${base64Encode(key.blob)}`;
}

export function sameKey(a: SshPublicKey, b: SshPublicKey): boolean {
  return bytesEqual(a.blob, b.blob);
}
