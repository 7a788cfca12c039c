// The `sparky` command. Each command lives in its own file and is loaded only when used, so that
// `sparky validate` does not pay for the Temporal client.
import { Command, Option } from 'commander';
import { CliError } from './connection.ts';

const program = new Command('sparky')
  .description('Durable, gated, parallel pipelines for GPU projects, on Temporal.\n' +
    'Connection: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default");\n' +
    'mTLS: TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME.')
  .showHelpAfterError();

const names = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

function action<A extends unknown[]>(fn: (...args: A) => Promise<number>) {
  return async (...args: A) => { process.exitCode = await fn(...args); };
}

program.command('validate <plan>')
  .description('check a plan file; prints file:line:col for every problem (exit 0 valid, 2 invalid)')
  .action(action(async (file: string) => (await import('./validate.ts')).validateCommand(file)));

program.command('plan <plan>')
  .description('preview a plan: phases, domains, workstreams, gates, critical path and durations')
  .option('--json', 'machine-readable analysis')
  .option('--mermaid', 'a mermaid diagram of phases, domains, workstreams and gates')
  .action(action(async (file: string, opts: { json?: boolean; mermaid?: boolean }) => (await import('./plan.ts')).planCommand(file, opts)));

program.command('input <plan>')
  .description('print the workflow input JSON {"plan": …} for `temporal workflow start --input-file` / tctl')
  .action(action(async (file: string) => {
    const { formatErrors, loadPlanFile } = await import('../plan/load.ts');
    const loaded = await loadPlanFile(file);
    if (!loaded.ok || !loaded.plan) { console.error(formatErrors(loaded.errors)); return 2; }
    console.log(JSON.stringify({ plan: loaded.plan }));
    return 0;
  }));

program.command('dev')
  .description('start the embedded stack: Temporal dev server (Web UI :8233, SQLite in .sparky/), CPU worker, GPU pool workers and inference servers (CPU fallback)')
  .option('--run <plan>', 'also start a run of this plan and follow it')
  .addOption(new Option('--auto-approve <names>', 'approve waiting gates as these people (comma-separated or repeated)').argParser(names))
  .option('--exit-when-done', 'stop the stack when the run ends (default: keep serving until Ctrl-C)')
  .option('--new-run', 'start a new run even if one of the same plan is still running (default: follow that one)')
  .action(action(async (opts) => (await import('./dev.ts')).devCommand(opts)));

program.command('run <plan>')
  .description('validate the plan and start a run on the server')
  .option('--wait', 'follow the run until it ends, with live progress')
  .addOption(new Option('--auto-approve <names>', 'with --wait: approve waiting gates as these people').argParser(names))
  .option('--id <workflowId>', 'workflow id (default sparky-<plan>-<run id>)')
  .action(action(async (file: string, opts) => (await import('./run.ts')).runCommand(file, { ...opts, interactive: true })));

program.command('status <run>')
  .description('show a run (its workflow id, its short run id, or "last")')
  .option('--json', 'the raw status query result')
  .option('--watch', 'follow it live until it ends')
  .action(action(async (run: string, opts) => (await import('./status.ts')).statusCommand(run, opts)));

program.command('approve <run> <gate>')
  .description('approve a waiting gate (refusals are printed with their reason, exit 4)')
  .requiredOption('--as <name>', 'who approves (must be one of the gate\'s approvers)')
  .option('--comment <text>', 'a comment kept in the audit trail')
  .action(action(async (run: string, gate: string, opts: { as: string; comment?: string }) =>
    (await import('./decide.ts')).decideCommand(run, gate, { ...opts, decision: 'approve' })));

program.command('reject <run> <gate>')
  .description('reject a waiting gate: the run compensates what it did and fails')
  .requiredOption('--as <name>', 'who rejects')
  .requiredOption('--reason <text>', 'why (kept in the audit trail)')
  .action(action(async (run: string, gate: string, opts: { as: string; reason: string }) =>
    (await import('./decide.ts')).decideCommand(run, gate, { ...opts, decision: 'reject' })));

for (const verb of ['pause', 'resume', 'cancel'] as const) {
  program.command(`${verb} <run>`)
    .description({ pause: 'start no new steps (running ones finish)', resume: 'continue a paused run', cancel: 'cancel running steps, then run the compensations' }[verb])
    .action(action(async (run: string) => (await import('./control.ts')).controlCommand(run, verb)));
}

program.command('logs <run> <step>')
  .description('print a step\'s log: <workstream>/<step>, e.g. WS-01/build')
  .option('-f, --follow', 'keep printing while the run goes on')
  .action(action(async (run: string, step: string, opts: { follow?: boolean }) => (await import('./logs.ts')).logsCommand(run, step, opts)));

program.command('history <run>')
  .description('export the run\'s event history as JSON (for replay tests: test/fixtures/histories/)')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(action(async (run: string, opts: { out?: string }) => (await import('./history.ts')).historyCommand(run, opts)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    console.error(`sparky: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`sparky: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}
