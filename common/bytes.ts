// Byte helpers for the signature code: base64 (standard alphabet, padding optional) and the SSH wire
// format's length-prefixed strings. Written out here because workflow code has no Buffer, atob or
// Node built-ins; pure and deterministic, so the workflow, the CLI and the tests share one copy.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

export function base64Encode(bytes: Uint8Array, padding = true): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < 4; k++) out += k < chars ? ALPHABET[(n >> (18 - 6 * k)) & 63] : (padding ? '=' : '');
  }
  return out;
}

/** Decodes standard base64 (whitespace ignored); undefined when the text is not base64. */
export function base64Decode(text: string): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '');
  if (clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 6) / 8));
  let bits = 0; let acc = 0; let j = 0;
  for (const c of clean) {
    const v = LOOKUP.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[j++] = (acc >> bits) & 0xff; }
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
export const utf8 = (text: string): Uint8Array => encoder.encode(text);
export const fromUtf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

/** An SSH `string`: uint32 big-endian length, then the bytes. */
export function sshString(bytes: Uint8Array | string): Uint8Array {
  const body = typeof bytes === 'string' ? utf8(bytes) : bytes;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Reads SSH wire-format fields in order; every read throws WireError past the end. */
export class WireReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  raw(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new WireError('truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  uint32(): number {
    const b = this.raw(4);
    return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
  }

  string(): Uint8Array { return this.raw(this.uint32()); }
  text(): string { return fromUtf8(this.string()); }
  get done(): boolean { return this.at === this.bytes.length; }
}

export class WireError extends Error {}

/** base64url without padding (WebAuthn's encoding of challenges and credential ids). */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64Encode(bytes, false).replace(/\+/g, '-').replace(/\//g, '_');
}

/** Decodes base64url (padding optional); undefined when the text is not base64url. */
export function base64UrlDecode(text: string): Uint8Array | undefined {
  if (/[+/\s]/.test(text)) return undefined;
  return base64Decode(text.replace(/-/g, '+').replace(/_/g, '/'));
}
