// `sparky report <run> [--since 7d] [--format md|json]`: the weekly report of a run per workstream
// (board/report.ts), from the same data the board shows: the `status` and `plan` queries.
import { parseDuration } from '../plan/durations.ts';
import { runView } from '../board/model.ts';
import { buildReport, reportMarkdown } from '../board/report.ts';
import { BoardSource } from '../board/source.ts';
import { CliError, connectClient, findWebUi, webUiRunUrl } from './connection.ts';
import { resolveRun } from './runs.ts';

export async function reportCommand(run: string, opts: { since?: string; format?: string }): Promise<number> {
  const format = opts.format ?? 'md';
  if (format !== 'md' && format !== 'json') throw new CliError(`--format must be md or json, not "${format}"`, 2);
  const window = opts.since ?? '7d';
  const sinceMs = parseDuration(window);
  if (sinceMs === undefined) throw new CliError(`--since must be a duration like 7d, 24h or 90m, not "${window}"`, 2);
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const { status, plan } = await new BoardSource(client).run(handle.workflowId);
  await findWebUi();
  const report = buildReport(runView(status, plan, Date.now()), { now: Date.now(), sinceMs, window, webUi: webUiRunUrl(handle.workflowId) });
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : reportMarkdown(report));
  return 0;
}
