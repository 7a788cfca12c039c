// Output references: `${{ outputs.<workstream>.<step>.<key> }}` inside any string of a step (argv,
// env values, params, paths) or a gate check. The workflow substitutes them just before it runs the
// step, from the outputs of steps that already finished. Pure: imported by workflow code.

export interface OutputRef {
  workstream: string;
  step: string;
  /** The output key; may be a dotted path into a nested value (`result.tflops`). */
  key: string;
  /** The reference exactly as written, e.g. `${{ outputs.WS-01.gemm.tflops }}`. */
  text: string;
}

/** Outputs of finished steps, keyed `<workstream>.<step>`. */
export type OutputsByStep = Record<string, Record<string, unknown>>;

// Anything between `${{` and `}}`; what is inside is checked separately so a malformed reference
// gets an error naming it instead of silently staying in the string.
const REF_RE = /\$\{\{([^}]*)\}\}/g;
const INNER_RE = /^\s*outputs\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.-]+?)\s*$/;

/** Parses one `${{ … }}` body; null when it is not a well-formed outputs reference. */
export function parseRef(text: string): OutputRef | null {
  const inner = text.replace(/^\$\{\{/, '').replace(/\}\}$/, '');
  const m = INNER_RE.exec(inner);
  if (!m || m[3].startsWith('.') || m[3].endsWith('.') || m[3].includes('..')) return null;
  return { workstream: m[1], step: m[2], key: m[3], text };
}

/** Every `${{ … }}` in the strings of a value, well formed or not (`ref` is null when malformed). */
export function scanRefs(value: unknown, visit: (text: string, ref: OutputRef | null, path: (string | number)[]) => void,
  path: (string | number)[] = []): void {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return;
    for (const m of value.matchAll(REF_RE)) visit(m[0], parseRef(m[0]), path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => scanRefs(item, visit, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) scanRefs(v, visit, [...path, k]);
  }
}

/** The well-formed output references in a value (strings at any depth), in order of appearance. */
export function findOutputRefs(value: unknown): OutputRef[] {
  const refs: OutputRef[] = [];
  scanRefs(value, (_text, ref) => { if (ref) refs.push(ref); });
  return refs;
}

function lookup(ref: OutputRef, outputs: OutputsByStep): unknown {
  const stepKey = `${ref.workstream}.${ref.step}`;
  if (!Object.prototype.hasOwnProperty.call(outputs, stepKey)) {
    throw new Error(`unknown output reference ${ref.text}: step ${stepKey} has no outputs (not finished, or not run in this run)`);
  }
  let current: unknown = outputs[stepKey];
  for (const part of ref.key.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, part)) {
      const keys = current && typeof current === 'object' ? Object.keys(current).join(', ') : '';
      throw new Error(`unknown output reference ${ref.text}: step ${stepKey} has no output "${ref.key}"${keys ? ` (it has: ${keys})` : ''}`);
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Values become text: strings as they are, objects and arrays as JSON, anything else with String(). */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A copy of `value` with every `${{ outputs.… }}` replaced by the referenced output, as text.
 * Throws an Error naming the reference when it is malformed or names an output that does not exist.
 */
export function substituteOutputs<T>(value: T, outputs: OutputsByStep): T {
  return substitute(value, outputs) as T;
}

function substitute(value: unknown, outputs: OutputsByStep): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return value;
    return value.replace(REF_RE, (text) => {
      const ref = parseRef(text);
      if (!ref) throw new Error(`malformed output reference ${text}: expected \${{ outputs.<workstream>.<step>.<key> }}`);
      return asText(lookup(ref, outputs));
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, outputs));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, outputs);
    return out;
  }
  return value;
}
