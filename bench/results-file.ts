// Where a benchmark run's results go: <dir>/<yyyy-mm-ddThh-mm>.json (UTC time of the run's start), with
// -2, -3, … when that minute already has a file. A results file is never overwritten.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export function resultsFile(dir: string, at: Date, prefix = ''): string {
  mkdirSync(dir, { recursive: true });
  const stamp = at.toISOString().slice(0, 16).replace(':', '-');
  for (let n = 1; ; n++) {
    const file = path.join(dir, `${prefix}${stamp}${n === 1 ? '' : `-${n}`}.json`);
    if (!existsSync(file)) return file;
  }
}
