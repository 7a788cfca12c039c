// Content digests of files and folders for the step cache: sha256 of a file's bytes (remembered per
// path while its size, modification time and inode stay the same, so a big input is read once per
// worker), and of a folder as the sorted list of its files' relative paths and digests.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const memo = new Map<string, { stamp: string; digest: string }>();

const stampOf = (s: { dev: number; ino: number; size: number; mtimeMs: number }) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;

/** sha256 (hex) of a file's bytes, or undefined when it is not a readable regular file. */
export async function fileDigest(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const stamp = stampOf(info);
  const known = memo.get(file);
  if (known?.stamp === stamp) return known.digest;
  const digest = await new Promise<string | undefined>((resolve) => {
    const hash = createHash('sha256');
    createReadStream(file).on('data', (chunk) => hash.update(chunk)).on('error', () => resolve(undefined)).on('end', () => resolve(hash.digest('hex')));
  });
  if (digest !== undefined) memo.set(file, { stamp, digest });
  return digest;
}

/** Every regular file under `dir` (symbolic links are not followed), as paths relative to it, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  await walk('');
  return out.sort();
}

/** What a path is: a file, a folder, or nothing (a dangling link counts as nothing). */
export async function kindOfPath(p: string): Promise<'file' | 'dir' | 'missing'> {
  const info = await stat(p).catch(() => undefined);
  if (info?.isFile()) return 'file';
  return info?.isDirectory() ? 'dir' : 'missing';
}

/** The digest of a file, or of a folder's files (relative path and digest each), or `missing`. */
export async function pathDigest(p: string): Promise<string> {
  const kind = await kindOfPath(p);
  if (kind === 'file') return (await fileDigest(p)) ?? 'unreadable';
  if (kind === 'missing') return 'missing';
  const hash = createHash('sha256');
  for (const rel of await filesUnder(p)) hash.update(`${rel}\0${(await fileDigest(path.join(p, rel))) ?? 'unreadable'}\n`);
  return `dir:${hash.digest('hex')}`;
}
