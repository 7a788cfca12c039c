// The keys a plan may list for a person: an OpenSSH ed25519 key (`ssh-ed25519 AAAA…`, decisions
// signed with ssh-keygen) or a passkey (`webauthn AAAA…`, decisions signed in the browser on the
// board). Both have a blob and a fingerprint of the same form (`SHA256:` + base64 of its sha256), so
// audits, records and preventSelfApproval compare keys one way. Pure.
import { fingerprint, parsePublicKey, ED25519_KEY_TYPE, type SshPublicKey } from './ssh-keys.ts';
import { parseWebauthnKey, WEBAUTHN_KEY_TYPE, type WebauthnPublicKey } from './webauthn.ts';

export type ListedKey = SshPublicKey | WebauthnPublicKey;

/** The key types a plan line may start with. */
export const KEY_TYPES = [ED25519_KEY_TYPE, WEBAUTHN_KEY_TYPE] as const;

/** Parses a key line of either type; a reason in words otherwise. */
export function parseListedKey(line: string): ListedKey | { error: string } {
  if (typeof line === 'string' && line.trim().startsWith(`${WEBAUTHN_KEY_TYPE} `)) return parseWebauthnKey(line);
  return parsePublicKey(line);
}

export function keyFingerprint(key: ListedKey): string {
  return fingerprint(key.blob);
}

/** "ssh-ed25519 SHA256:…" or "passkey for localhost SHA256:…" (the board and `sparky verify` show it). */
export function describeKey(key: ListedKey): string {
  return key.type === WEBAUTHN_KEY_TYPE ? `passkey for ${key.rpId} ${keyFingerprint(key)}` : `${key.type} ${keyFingerprint(key)}`;
}
