// What `scripts/test.ts` selects and how it reports, as pure functions (tested in
// test/foundation/test-script.test.ts). The summary counts tests only; tsc, eslint and the runners
// themselves are stages, listed on their own line, and a failed stage fails the run on the last line.

export interface Totals { passed: number; failed: number; skipped: number }
export interface StageResult { name: string; ok: boolean; why?: string }

/** `--only a,b`: a file is selected when its path (relative to the repository root) contains one of them. */
export function isSelected(relativePath: string, only: string[] | undefined): boolean {
  return !only || only.some((o) => relativePath.includes(o));
}

/** The lines that end a run: the stages, then the one CI reads: `N passed, N failed, N skipped`. */
export function summaryLines(totals: Totals, stages: StageResult[]): string[] {
  const failedStages = stages.filter((s) => !s.ok);
  const lines = stages.length > 0
    ? [`stages: ${stages.map((s) => `${s.name} ${s.ok ? 'ok' : `FAILED${s.why ? ` (${s.why})` : ''}`}`).join(', ')}`]
    : [];
  const counts = `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;
  lines.push(failedStages.length > 0 ? `${counts}; ${failedStages.length} stage(s) failed: ${failedStages.map((s) => s.name).join(', ')}` : counts);
  return lines;
}

/** The exit code: 1 when a test or a stage failed. */
export function exitCode(totals: Totals, stages: StageResult[]): number {
  return totals.failed > 0 || stages.some((s) => !s.ok) ? 1 : 0;
}
