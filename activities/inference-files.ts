// Files in and out of inference steps: inputs are paths or globs (relative to the step's base
// directory, or absolute) read into bytes; binary results are written into the step's output folder
// and replaced by their paths in the step's outputs.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

const GLOB_CHARS = /[*?[]/;

/** `**` any depth, `*` and `?` within one name, `[abc]` a class; the rest is literal. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else { re += `[${pattern.slice(i + 1, end).replace(/\\/g, '\\\\')}]`; i = end; }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? walk(full) : Promise.resolve(e.isFile() ? [full] : []);
  }));
  return nested.flat();
}

/** Expands one path or glob to existing files, sorted (so the order of inputs is stable). */
export async function expandInput(pattern: string, baseDir: string): Promise<string[]> {
  const absolute = path.resolve(baseDir, pattern);
  if (!GLOB_CHARS.test(pattern)) {
    const info = await stat(absolute).catch(() => undefined);
    return info?.isFile() ? [absolute] : [];
  }
  // Walk from the longest directory prefix without glob characters.
  const parts = absolute.split(path.sep);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const root = parts.slice(0, firstGlob).join(path.sep) || path.sep;
  const re = globToRegExp(parts.slice(firstGlob).join('/'));
  return (await walk(root)).filter((f) => re.test(path.relative(root, f).split(path.sep).join('/'))).sort();
}

/** Reads a step's `inputs` (name → path/glob or list of them) into bytes; a name that matches nothing fails the step. */
export async function readInputs(inputs: Record<string, string | string[]> | undefined, baseDir: string):
  Promise<{ inputs: Record<string, Uint8Array[]>; files: Record<string, string[]>; bytes: number }> {
  const out: Record<string, Uint8Array[]> = {};
  const files: Record<string, string[]> = {};
  let bytes = 0;
  for (const [name, spec] of Object.entries(inputs ?? {})) {
    const patterns = Array.isArray(spec) ? spec : [spec];
    const matched: string[] = [];
    for (const pattern of patterns) {
      const found = await expandInput(pattern, baseDir);
      if (found.length === 0) {
        throw ApplicationFailure.nonRetryable(`inputs.${name}: no file matches ${JSON.stringify(pattern)} (relative to ${baseDir})`, 'InferenceInputMissing');
      }
      matched.push(...found);
    }
    files[name] = matched;
    out[name] = await Promise.all(matched.map(async (f) => new Uint8Array(await readFile(f))));
    bytes += out[name].reduce((n, b) => n + b.byteLength, 0);
  }
  return { inputs: out, files, bytes };
}

function extensionOf(data: Uint8Array): string {
  const starts = (...sig: number[]) => sig.every((b, i) => data[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return '.png';
  if (starts(0xff, 0xd8, 0xff)) return '.jpg';
  if (starts(0x7b) || starts(0x5b)) return '.json';
  return '.bin';
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const safeName = (key: string) => key.replace(/[^A-Za-z0-9._-]+/g, '_') || 'result';

/**
 * Writes every binary value of a result (a bin, or a list of bins) as a file in `dir`
 * (`<key><ext>`, or `<key>-<i><ext>` for lists) and returns the result with paths in their place.
 */
export async function writeBinaryResults(result: Record<string, unknown>, dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    if (isBytes(value)) {
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${safeName(key)}${extensionOf(value)}`);
      await writeFile(file, value);
      out[key] = file;
    } else if (Array.isArray(value) && value.length > 0 && value.every(isBytes)) {
      await mkdir(dir, { recursive: true });
      out[key] = await Promise.all(value.map(async (item, i) => {
        const file = path.join(dir, `${safeName(key)}-${String(i).padStart(3, '0')}${extensionOf(item)}`);
        await writeFile(file, item);
        return file;
      }));
    } else {
      out[key] = value;
    }
  }
  return out;
}
