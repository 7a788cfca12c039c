// Field paths as people read them: `phases[1].domains[0].workstreams[3].dependsOn[0]`. The same
// text goes into error messages, `file:line:col  path: message` lines and the workflow's failure.
// Pure: imported by workflow code through validate.ts.

export type PathSegment = string | number;

/** The path of the whole plan (a path is never empty, so every error names a place). */
export const ROOT_PATH = '(plan)';

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || ROOT_PATH;
}

/** The inverse of formatPath (the loader maps paths back to source positions). */
export function parsePath(text: string): PathSegment[] {
  if (text === ROOT_PATH) return [];
  const segs: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_$][A-Za-z0-9_$-]*)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1] !== undefined) segs.push(Number(m[1]));
    else if (m[2] !== undefined) segs.push(JSON.parse(m[2]) as string);
    else segs.push(m[3]);
  }
  return segs;
}

/** The value at a path, or undefined where the path leads nowhere. */
export function getAt(root: unknown, path: PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
