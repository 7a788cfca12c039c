// Secrets are references in the plan (`secrets: {TOKEN: {fromEnv: CI_TOKEN}}`), resolved here, on the
// worker, so their values never enter workflow history. Everything a runner returns or logs passes
// through the redactor made from the resolved values.
import { ApplicationFailure } from '@temporalio/common';
import type { StepBody } from '../plan/schema.ts';

export const REDACTED = '***';

export interface ResolvedSecrets {
  /** Environment for the step's process: step variable name → value. */
  env: Record<string, string>;
  redact: (text: string) => string;
}

export function resolveSecrets(
  secrets: StepBody['secrets'], source: NodeJS.ProcessEnv = process.env, stepLabel = 'step',
): ResolvedSecrets {
  const env: Record<string, string> = {};
  for (const [name, ref] of Object.entries(secrets ?? {})) {
    const value = source[ref.fromEnv];
    if (value === undefined || value === '') {
      // Name the variable, never a value: this message goes into workflow history.
      throw ApplicationFailure.nonRetryable(
        `${stepLabel}: secret ${name} refers to the environment variable ${ref.fromEnv}, which is not set on this worker `
        + `(set ${ref.fromEnv} in the environment the worker starts in)`,
        'SecretMissing',
      );
    }
    env[name] = value;
  }
  return { env, redact: redactor(Object.values(env)) };
}

/** Replaces every secret value (and each line of a multi-line one) with `***`. */
export function redactor(values: string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const value of values) {
    needles.add(value);
    // A PEM key printed line by line would escape a whole-value match.
    if (value.includes('\n')) for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) needles.add(line);
  }
  const sorted = [...needles].filter((n) => n.length > 0).sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => sorted.reduce((out, needle) => (out.includes(needle) ? out.split(needle).join(REDACTED) : out), text);
}
