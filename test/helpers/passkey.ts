// A software passkey for tests that need WebAuthn assertions without a browser: a P-256 key that
// signs authenticatorData ‖ sha256(clientDataJSON) as an authenticator does, with the flags, origin
// and client data a test chooses (to forge what a real authenticator never would). The real-browser
// path (Chromium's virtual authenticator) is in test/board/board.test.ts.
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { base64UrlEncode, concat, utf8 } from '../../common/bytes.ts';
import { armorAssertion, parseWebauthnKey, statementChallenge, webauthnKeyLine, type WebauthnAssertion, type WebauthnPublicKey } from '../../common/webauthn.ts';

export interface SignOptions {
  origin?: string;
  /** authenticatorData flags (default UP|UV = 0x05). */
  flags?: number;
  crossOrigin?: boolean;
  type?: string;
  /** Sign this challenge instead of the statement's hash. */
  challenge?: Uint8Array;
  /** The relying party id hashed into authenticatorData (default the key's). */
  rpIdHashOf?: string;
  signCount?: number;
  /** Make the signature high-S (s' = n - s): still valid ECDSA. */
  highS?: boolean;
}

export interface SoftPasskey {
  line: string;
  key: WebauthnPublicKey;
  assertion(statement: string, opts?: SignOptions): WebauthnAssertion;
  sign(statement: string, opts?: SignOptions): string;
}

export function softPasskey(rpId = 'localhost', comment?: string): SoftPasskey {
  const secret = p256.utils.randomSecretKey();
  const point = p256.getPublicKey(secret, false);
  const credentialId = new Uint8Array(randomBytes(32));
  const line = webauthnKeyLine({ point, rpId, credentialId, comment });
  const key = parseWebauthnKey(line);
  if ('error' in key) throw new Error(key.error);
  const assertion = (statement: string, o: SignOptions = {}): WebauthnAssertion => {
    const challenge = o.challenge ?? statementChallenge(statement);
    const clientDataJSON = utf8(JSON.stringify({
      type: o.type ?? 'webauthn.get', challenge: base64UrlEncode(challenge), origin: o.origin ?? `http://${rpId}:8234`, crossOrigin: o.crossOrigin ?? false,
    }));
    const count = o.signCount ?? 1;
    const authenticatorData = concat(sha256(utf8(o.rpIdHashOf ?? rpId)), new Uint8Array([o.flags ?? 0x05, count >>> 24, (count >> 16) & 255, (count >> 8) & 255, count & 255]));
    let sig = p256.Signature.fromBytes(p256.sign(concat(authenticatorData, sha256(clientDataJSON)), secret, { prehash: true }));
    if (o.highS) sig = new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s);
    return { credentialId, authenticatorData, clientDataJSON, signature: sig.toBytes('der') };
  };
  return { line, key, assertion, sign: (statement, o) => armorAssertion(assertion(statement, o)) };
}
