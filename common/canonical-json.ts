// Canonical JSON (object keys sorted, no whitespace, undefined dropped as JSON.stringify drops it)
// and its sha256: the digests a signed gate statement names (the plan, the gate's check results).
// The workflow, `sparky statement` and `sparky verify` compute them with this one function, so the
// same data always gives the same bytes. Pure.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from './bytes.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value).sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined && typeof (value as Record<string, unknown>)[k] !== 'function')
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON of `value`. */
export function jsonDigest(value: unknown): string {
  return `sha256:${bytesToHex(sha256(utf8(canonicalJson(value))))}`;
}
