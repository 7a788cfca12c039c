// A step's declared outputs: a JSON object from a file it wrote, or from the last non-empty line of
// its stdout. They go into workflow history, so they come from redacted output only.
import { ApplicationFailure } from '@temporalio/common';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShellStep } from '../plan/schema.ts';

type OutputsSpec = NonNullable<ShellStep['outputs']>;

const MAX_OUTPUT_BYTES = 256 * 1024;

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw ApplicationFailure.nonRetryable(`${where} must hold a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, 'StepOutputsInvalid');
  }
  return value as Record<string, unknown>;
}

function parse(text: string, where: string): Record<string, unknown> {
  if (Buffer.byteLength(text) > MAX_OUTPUT_BYTES) {
    throw ApplicationFailure.nonRetryable(`${where} is larger than ${MAX_OUTPUT_BYTES / 1024} KiB: outputs go into workflow history, write big results to files and output their paths`, 'StepOutputsInvalid');
  }
  try {
    return asObject(JSON.parse(text), where);
  } catch (error) {
    if (error instanceof ApplicationFailure) throw error;
    throw ApplicationFailure.nonRetryable(`${where} is not valid JSON (${(error as Error).message}): ${text.slice(0, 200)}`, 'StepOutputsInvalid');
  }
}

export async function readOutputs(
  spec: OutputsSpec | undefined, cwd: string, lastStdoutLine: string | undefined, redact: (text: string) => string,
): Promise<Record<string, unknown> | undefined> {
  if (!spec) return undefined;
  if (spec.from === 'json-file') {
    if (!spec.file) throw ApplicationFailure.nonRetryable('outputs.from json-file needs outputs.file', 'StepOutputsInvalid');
    const file = path.resolve(cwd, spec.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw ApplicationFailure.nonRetryable(`the outputs file ${file} could not be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'StepOutputsInvalid');
    }
    return parse(redact(text), `the outputs file ${file}`);
  }
  if (lastStdoutLine === undefined) {
    throw ApplicationFailure.nonRetryable(`outputs.from ${spec.from}: the step printed nothing on stdout`, 'StepOutputsInvalid');
  }
  return parse(lastStdoutLine, `the last line of stdout`);
}
