// Passkeys (WebAuthn, ES256 on P-256) as approver keys: the plan line, the signature text a browser's
// assertion becomes, and its verification, in pure JS (@noble/curves p256, @noble/hashes sha256) so
// the workflow checks a passkey-signed decision itself, deterministically, as it checks SSHSIG.
//
// A passkey signs a Sparky statement (common/gate-statement.ts) this way: the WebAuthn challenge is
// sha256(statement), and the authenticator signs authenticatorData ‖ sha256(clientDataJSON). So the
// verifier, given the statement, checks (WebAuthn Level 3, §7.2 "Verifying an Authentication
// Assertion", the parts that apply to a signature kept in a history):
//   clientData.type = "webauthn.get", clientData.challenge = base64url(sha256(statement)),
//   clientData.crossOrigin is not true, clientData.origin fits the key's relying party id (below),
//   authenticatorData's rpIdHash = sha256(rpId), flags UP (user present) and UV (user verified) set,
//   and the ECDSA P-256 / SHA-256 signature under the key the plan lists (high-S accepted: authenticators
//   do not normalise).
// Origin policy: https://RPID or https://<sub>.RPID on any port; plain http only for the rpId
// "localhost" (browsers treat http://localhost as a secure context; WebAuthn refuses IP addresses).
// Not checked: the signature counter (many passkeys report 0; a replayed assertion is caught by
// "each signature counts once": its id is the key and the statement, as for ed25519) and attestation.
//
// Plan line:   webauthn <base64 blob> [comment]
//   blob = string "webauthn" · string "nistp256" · string Q (65 bytes, 0x04 ‖ x ‖ y) · string rpId · string credentialId
//   (SSH wire strings, as in an ssh-ed25519 line, so fingerprints are SHA256:… of the blob as for SSH keys).
// Signature:   -----BEGIN SPARKY WEBAUTHN SIGNATURE----- base64(blob) -----END SPARKY WEBAUTHN SIGNATURE-----
//   blob = string "webauthn.get" · string credentialId · string authenticatorData · string clientDataJSON · string signature (DER)
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64Decode, base64Encode, base64UrlDecode, base64UrlEncode, bytesEqual, concat, fromUtf8, sshString, utf8, WireError, WireReader } from './bytes.ts';

export const WEBAUTHN_KEY_TYPE = 'webauthn';
const CURVE = 'nistp256';
const ASSERTION_TYPE = 'webauthn.get';
const BEGIN = '-----BEGIN SPARKY WEBAUTHN SIGNATURE-----';
const END = '-----END SPARKY WEBAUTHN SIGNATURE-----';
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;

export interface WebauthnPublicKey {
  type: typeof WEBAUTHN_KEY_TYPE;
  /** What fingerprints are made of (see the file comment). */
  blob: Uint8Array;
  /** The uncompressed P-256 point (65 bytes). */
  point: Uint8Array;
  /** The relying party id the passkey was made for (the board's host name: "localhost", "board.example.com"). */
  rpId: string;
  credentialId: Uint8Array;
  comment?: string;
}

export interface WebauthnAssertion {
  credentialId: Uint8Array;
  authenticatorData: Uint8Array;
  clientDataJSON: Uint8Array;
  /** ASN.1 DER ECDSA signature, as the browser returns it. */
  signature: Uint8Array;
}

/** A host name (lower case, dot-separated labels); WebAuthn refuses IP addresses as relying party ids. */
const RP_ID_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const isRpId = (text: string) => text.length <= 253 && RP_ID_RE.test(text) && !/^[0-9.]+$/.test(text);

/** Whether the text is a passkey signature (the board's), not an SSHSIG. */
export function isWebauthnSignature(text: unknown): boolean {
  return typeof text === 'string' && text.includes(BEGIN);
}

/** The key line for a passkey (what registering one prints, for the plan). */
export function webauthnKeyLine(key: { point: Uint8Array; rpId: string; credentialId: Uint8Array; comment?: string }): string {
  const blob = concat(sshString(WEBAUTHN_KEY_TYPE), sshString(CURVE), sshString(key.point), sshString(key.rpId), sshString(key.credentialId));
  return `${WEBAUTHN_KEY_TYPE} ${base64Encode(blob)}${key.comment ? ` ${key.comment}` : ''}`;
}

/** Parses `webauthn <base64> [comment]`; a reason in words when it is not one. */
export function parseWebauthnKey(line: string): WebauthnPublicKey | { error: string } {
  const [type, b64, ...rest] = line.trim().split(/\s+/);
  if (type !== WEBAUTHN_KEY_TYPE || !b64) return { error: 'expected "webauthn AAAA… [comment]" (the line `sparky board` prints when a passkey is registered)' };
  const blob = base64Decode(b64);
  if (!blob) return { error: 'the passkey is not valid base64' };
  try {
    const r = new WireReader(blob);
    if (r.text() !== WEBAUTHN_KEY_TYPE) return { error: 'not a webauthn key blob' };
    const curve = r.text();
    if (curve !== CURVE) return { error: `passkey curve "${curve}" is not supported (ES256 on ${CURVE} is)` };
    const point = r.string();
    const rpId = r.text();
    const credentialId = r.string();
    if (!r.done) return { error: 'not a well-formed webauthn key (trailing bytes)' };
    if (point.length !== 65 || point[0] !== 0x04) return { error: 'not a well-formed webauthn key (an uncompressed P-256 point of 65 bytes expected)' };
    try { p256.Point.fromBytes(point).assertValidity(); } catch { return { error: 'the passkey\'s public key is not a point on P-256' }; }
    if (!isRpId(rpId)) return { error: `the passkey's relying party id "${rpId}" is not a host name (WebAuthn refuses IP addresses; open the board at http://localhost:PORT or on a named host)` };
    if (credentialId.length < 16 || credentialId.length > 1023) return { error: 'not a well-formed webauthn key (a credential id of 16 to 1023 bytes expected)' };
    return { type: WEBAUTHN_KEY_TYPE, blob, point, rpId, credentialId, ...(rest.length ? { comment: rest.join(' ') } : {}) };
  } catch (e) {
    if (e instanceof WireError) return { error: 'not a well-formed webauthn key (truncated)' };
    throw e;
  }
}

/** The P-256 point of a SubjectPublicKeyInfo (what `AuthenticatorAttestationResponse.getPublicKey()` returns for ES256). */
export function pointFromSpki(spki: Uint8Array): Uint8Array | { error: string } {
  // SEQUENCE { SEQUENCE { OID ecPublicKey, OID prime256v1 }, BIT STRING 0x00 0x04 x y }: a fixed 26-byte prefix.
  const PREFIX = '3059301306072a8648ce3d020106082a8648ce3d030107034200';
  if (spki.length !== 91 || bytesToHex(spki.subarray(0, 26)) !== PREFIX) return { error: 'not a P-256 public key (ES256 passkeys only)' };
  const point = spki.slice(26);
  try { p256.Point.fromBytes(point).assertValidity(); } catch { return { error: 'not a point on P-256' }; }
  return point;
}

/** The signature text a browser assertion becomes (the decision's `signature`). */
export function armorAssertion(a: WebauthnAssertion): string {
  const blob = concat(sshString(ASSERTION_TYPE), sshString(a.credentialId), sshString(a.authenticatorData), sshString(a.clientDataJSON), sshString(a.signature));
  const b64 = base64Encode(blob);
  return `${BEGIN}\n${b64.replace(/(.{70})/g, '$1\n').replace(/\n$/, '')}\n${END}\n`;
}

export function parseAssertion(armored: string): WebauthnAssertion | { error: string } {
  if (typeof armored !== 'string') return { error: 'the signature must be text' };
  const start = armored.indexOf(BEGIN);
  const end = armored.indexOf(END);
  if (start < 0 || end < start) return { error: `not a passkey signature: expected the text between "${BEGIN}" and "${END}"` };
  const bytes = base64Decode(armored.slice(start + BEGIN.length, end));
  if (!bytes) return { error: 'the passkey signature is not valid base64' };
  try {
    const r = new WireReader(bytes);
    if (r.text() !== ASSERTION_TYPE) return { error: 'not a WebAuthn assertion' };
    const out = { credentialId: r.string(), authenticatorData: r.string(), clientDataJSON: r.string(), signature: r.string() };
    if (!r.done) return { error: 'the passkey signature has trailing bytes' };
    return out;
  } catch (e) {
    if (e instanceof WireError) return { error: 'the passkey signature is truncated' };
    throw e;
  }
}

/** The WebAuthn challenge for a statement: sha256 of its exact bytes. */
export function statementChallenge(statement: string | Uint8Array): Uint8Array {
  return sha256(typeof statement === 'string' ? utf8(statement) : statement);
}

/** The origin policy (file comment): an origin a passkey for `rpId` may sign from. */
export function originAllowed(origin: string, rpId: string): boolean {
  const m = /^(https?):\/\/([a-z0-9.-]+)(:\d{1,5})?$/.exec(origin);
  if (!m) return false;
  const [, scheme, host] = m;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) return false;
  return scheme === 'https' || (rpId === 'localhost' && host === 'localhost');
}

export interface AssertionCheck {
  assertion: WebauthnAssertion;
  key: Pick<WebauthnPublicKey, 'point' | 'rpId' | 'credentialId'>;
  /** The challenge the assertion must carry (statementChallenge of the statement). */
  challenge: Uint8Array;
  /** Sparky requires UV (a passkey unlocked by its owner); false only to check published vectors made without it. */
  requireUserVerification?: boolean;
  /** Sparky refuses assertions made inside a cross-origin frame; false only for published vectors of that case. */
  refuseCrossOrigin?: boolean;
}

export type AssertionResult = { ok: true; signCount: number; origin: string } | { ok: false; reason: string };

/** Verifies one assertion against one key (see the file comment for what is checked). */
export function verifyAssertion(c: AssertionCheck): AssertionResult {
  const { assertion: a, key } = c;
  if (!bytesEqual(a.credentialId, key.credentialId)) return { ok: false, reason: 'the assertion names another credential than the key' };
  let client: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fromUtf8(a.clientDataJSON));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'clientDataJSON is not a JSON object' };
    client = parsed as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'clientDataJSON is not JSON' };
  }
  if (client.type !== ASSERTION_TYPE) return { ok: false, reason: `clientDataJSON type is ${JSON.stringify(client.type)}, not "${ASSERTION_TYPE}"` };
  const challenge = typeof client.challenge === 'string' ? base64UrlDecode(client.challenge) : undefined;
  if (!challenge || !bytesEqual(challenge, c.challenge)) {
    return { ok: false, reason: 'the passkey signed another challenge than this statement\'s hash (signed for another run, gate, round, decision, comment or time, or altered)' };
  }
  if (typeof client.origin !== 'string' || !originAllowed(client.origin, key.rpId)) {
    return { ok: false, reason: `signed from origin ${JSON.stringify(client.origin)}, which is not allowed for a passkey of ${key.rpId} (https://${key.rpId} or a subdomain${key.rpId === 'localhost' ? ', or http://localhost' : ''})` };
  }
  if ((c.refuseCrossOrigin ?? true) && client.crossOrigin === true) return { ok: false, reason: 'signed inside a cross-origin frame (clientData.crossOrigin is true)' };
  const ad = a.authenticatorData;
  if (ad.length < 37) return { ok: false, reason: 'authenticatorData is shorter than 37 bytes' };
  if (!bytesEqual(ad.subarray(0, 32), sha256(utf8(key.rpId)))) return { ok: false, reason: `authenticatorData is for another relying party than ${key.rpId}` };
  const flags = ad[32];
  if (!(flags & FLAG_UP)) return { ok: false, reason: 'the authenticator did not report user presence (flag UP)' };
  if ((c.requireUserVerification ?? true) && !(flags & FLAG_UV)) {
    return { ok: false, reason: 'the authenticator did not verify the user (flag UV): use a passkey unlocked by fingerprint, face or PIN' };
  }
  const signed = concat(ad, sha256(a.clientDataJSON));
  let valid = false;
  try {
    valid = p256.verify(a.signature, signed, key.point, { format: 'der', lowS: false, prehash: true });
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'the passkey signature does not verify under the key in the plan (altered, or made by another passkey)' };
  const signCount = ((ad[33] << 24) >>> 0) + (ad[34] << 16) + (ad[35] << 8) + ad[36];
  return { ok: true, signCount, origin: client.origin };
}

export type PasskeySignatureResult =
  | { ok: true; key: WebauthnPublicKey; signatureId: string }
  | { ok: false; reason: string; unknownCredential?: string };

/**
 * A passkey signature over `statement` by one of `keys` (the approver's listed passkeys): the key is
 * the one whose credential id the assertion names. `signatureId` is the same for every assertion of
 * the same statement by the same key, so "each signature counts once" means what it means for ed25519.
 */
export function verifyPasskeySignature(statement: string, armored: string, keys: readonly WebauthnPublicKey[]): PasskeySignatureResult {
  const a = parseAssertion(armored);
  if ('error' in a) return { ok: false, reason: a.error };
  const key = keys.find((k) => bytesEqual(k.credentialId, a.credentialId));
  if (!key) return { ok: false, reason: `signed with passkey credential ${base64UrlEncode(a.credentialId)}`, unknownCredential: base64UrlEncode(a.credentialId) };
  const challenge = statementChallenge(statement);
  const r = verifyAssertion({ assertion: a, key, challenge });
  if (!r.ok) return r;
  return { ok: true, key, signatureId: `webauthn:${bytesToHex(sha256(concat(key.blob, challenge)))}` };
}

export { base64UrlDecode, base64UrlEncode };
