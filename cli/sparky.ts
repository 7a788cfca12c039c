// The `sparky` command. Each command lives in its own file and is loaded only when used, so that
// `sparky validate` does not pay for the Temporal client.
import { Command, Option } from 'commander';
import { DEFAULT_ADDRESS } from '../host/temporal-connection.ts';
import { CliError } from './connection.ts';
import { endQuietly, isClosedPipe, quietOnClosedPipe } from './pipe.ts';

quietOnClosedPipe();

const program = new Command('sparky')
  .description('Durable, gated, parallel pipelines for GPU projects, on Temporal.\n' +
    `Connection: TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE (default "default");\n` +
    'mTLS: TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME.\n' +
    'Web UI links: SPARKY_UI_URL, or SPARKY_UI_PORT, else the port of TEMPORAL_ADDRESS + 1000 when a Web UI answers there.')
  .showHelpAfterError();

const names = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

function action<A extends unknown[]>(fn: (...args: A) => Promise<number>) {
  return async (...args: A) => { process.exitCode = await fn(...args); };
}

program.command('validate <plan>')
  .description('check a plan file; prints file:line:col for every problem to stderr (exit 0 valid, 2 invalid)')
  .action(action(async (file: string) => (await import('./validate.ts')).validateCommand(file)));

program.command('plan <plan>')
  .description('preview a plan: phases, domains, workstreams, gates, critical path and durations')
  .option('--json', 'machine-readable analysis')
  .option('--mermaid', 'a mermaid diagram of phases, domains, workstreams and gates')
  .action(action(async (file: string, opts: { json?: boolean; mermaid?: boolean }) => (await import('./plan.ts')).planCommand(file, opts)));

program.command('input <plan>')
  .description('print the workflow input JSON {"plan": …, "options": …} for `temporal workflow start --input-file` / tctl')
  .option('--id <workflowId>', 'the workflow id the run will be started with (a signed start names it)')
  .option('--as <name>', 'who starts the run (recorded as options.startedBy)')
  .option('--key <file>', 'sign the start with this ed25519 key (or its .pub via ssh-agent); needs --id')
  .action(action(async (file: string, opts: { id?: string; as?: string; key?: string }) => (await import('./input.ts')).inputCommand(file, opts)));

program.command('dev')
  .description('start the embedded stack: Temporal dev server (Web UI on its gRPC port + 1000, :8233; SQLite in .sparky/), and in this same process the CPU worker and the GPU pool workers with their inference servers (CPU fallback)')
  .option('--server-only', 'start only the Temporal dev server and Web UI; run the workers as separate processes (npx tsx workers/cpu.ts, npx tsx workers/gpu.ts)')
  .option('--run <plan>', 'also start a run of this plan and follow it')
  .addOption(new Option('--auto-approve <names>', 'approve waiting gates as these people (comma-separated or repeated)').argParser(names))
  .option('--exit-when-done', 'stop the stack when the run ends (default: keep serving until Ctrl-C)')
  .option('--new-run', 'start a new run even if one of the same plan is still running (default: follow that one)')
  .addHelpText('after', [
    '',
    'Environment:',
    '  SPARKY_TEMPORAL_PORT  the dev server\'s gRPC port (default 7233)',
    '  SPARKY_UI_PORT        the Web UI\'s port (default: the gRPC port + 1000, so 8233)',
    '  SPARKY_BOARD_PORT     the Sparky board\'s port (default 8234)',
    '  SPARKY_DATA_DIR       SQLite, logs and step files (default .sparky/ in the checkout)',
    '  SPARKY_GPUS, SPARKY_HOST, SPARKY_GPU_SLOTS   the GPU pool (see README)',
  ].join('\n'))
  .action(action(async (opts) => (await import('./dev.ts')).devCommand(opts)));

program.command('run <plan>')
  .description('validate the plan and start a run on the server')
  .option('--wait', 'follow the run until it ends, with live progress')
  .addOption(new Option('--auto-approve <names>', 'with --wait: approve waiting gates as these people').argParser(names))
  .option('--id <workflowId>', 'workflow id (default sparky-<plan>-<run id>)')
  .option('--as <name>', 'who starts the run (default SPARKY_USER or your login name); gates with preventSelfApproval refuse their approval')
  .option('--key <file>', 'sign the start with this ed25519 key (or its .pub via ssh-agent): the starter is then known by key too')
  .addOption(new Option('--only <workstreams>', 'run only these workstreams and what they need (from the cache or by running it); phases not entered are not asked').argParser(names))
  .addOption(new Option('--from <workstreams>', 'run these and everything downstream of them (not from the cache), and what those need').argParser(names))
  .addOption(new Option('--no-cache [workstreams]', 'cached steps (of these workstreams, comma-separated; default all) run whatever the cache holds, and store their new results'))
  .option('--dry-run', 'start nothing: print what each step would do (run, from the cache, skipped, and why) and the critical path of what would run')
  .option('--json', 'with --dry-run: the report as JSON')
  .action(action(async (file: string, opts) => (await import('./run.ts')).runCommand(file, { ...opts, interactive: true })));

const schedule = program.command('schedule')
  .description('runs of a plan on Temporal Schedules (the Web UI\'s Schedules page): create, list, pause, unpause, trigger, backfill, delete');
const repeat = (v: string, prev: string[] = []) => [...prev, v];
schedule.command('create <name> <plan>')
  .description('run PLAN on a cron expression or an interval; the plan is copied in now, or read as committed when each run starts (--committed)')
  .addOption(new Option('--cron <expression>', 'a cron expression, e.g. "0 2 * * *" (repeatable)').argParser(repeat))
  .option('--every <duration>', 'an interval, e.g. 1d, 6h, 30m')
  .option('--offset <duration>', 'with --every: shift the interval (e.g. --every 1d --offset 2h: 02:00 UTC)')
  .addOption(new Option('--overlap <policy>', 'a run is due while the last one still runs (default skip)').choices(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']))
  .option('--catchup-window <duration>', 'after an outage, start missed runs at most this late (default: Temporal\'s, 1 year)')
  .option('--pause-on-failure', 'pause the schedule when a run fails')
  .option('--paused', 'create it paused')
  .option('--note <text>', 'a note shown with the schedule')
  .option('--committed', 'read PLAN from its git repository as committed at --ref (default: the branch checked out now) when each run starts')
  .option('--ref <ref>', 'with --committed: the branch, tag or commit')
  .option('--as <name>', 'who the runs are started by (default SPARKY_USER or your login name)')
  .addOption(new Option('--only <workstreams>', 'each run runs only these workstreams and what they need').argParser(names))
  .addOption(new Option('--from <workstreams>', 'each run runs these and everything downstream').argParser(names))
  .addOption(new Option('--no-cache [workstreams]', 'each run runs its cached steps (of these workstreams) whatever the cache holds'))
  .action(action(async (name: string, file: string, opts) => (await import('./schedule.ts')).scheduleCreate(name, file, opts)));
schedule.command('list')
  .description('the Sparky schedules: plan, when, overlap policy, paused, runs taken, the next run')
  .option('--json', 'as JSON')
  .action(action(async (opts: { json?: boolean }) => (await import('./schedule.ts')).scheduleList(opts)));
for (const verb of ['pause', 'unpause'] as const) {
  schedule.command(`${verb} <name>`)
    .description(verb === 'pause' ? 'start no more runs until unpaused' : 'start runs again as scheduled')
    .option('--note <text>', 'why (shown with the schedule)')
    .action(action(async (name: string, opts: { note?: string }) => (await import('./schedule.ts')).schedulePause(name, verb === 'pause', opts)));
}
schedule.command('trigger <name>')
  .description('start a run now (also of a paused schedule)')
  .addOption(new Option('--overlap <policy>', 'for this run (default: the schedule\'s)').choices(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']))
  .action(action(async (name: string, opts: { overlap?: string }) => (await import('./schedule.ts')).scheduleTrigger(name, opts)));
schedule.command('backfill <name>')
  .description('start now the runs the schedule would have started between --start and --end')
  .requiredOption('--start <time>', 'e.g. 2026-12-01T00:00:00Z')
  .requiredOption('--end <time>', 'e.g. 2026-12-04T00:00:00Z')
  .addOption(new Option('--overlap <policy>', 'default buffer-all: every run starts, one after another').choices(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']))
  .action(action(async (name: string, opts: { start: string; end: string; overlap?: string }) => (await import('./schedule.ts')).scheduleBackfill(name, opts)));
schedule.command('delete <name>')
  .description('delete the schedule (runs it started are not touched)')
  .action(action(async (name: string) => (await import('./schedule.ts')).scheduleDelete(name, {})));

program.command('board')
  .description('serve the Sparky board: a live web page of the runs (graph, schedule, waiting list, gates with passkey signing, logs, audit)')
  .option('--port <port>', 'the port (default SPARKY_BOARD_PORT or 8234; 0: any free one)')
  .option('--host <address>', 'the address to listen on (default 127.0.0.1: this machine only)')
  .addOption(new Option('--allow-host <name:port>', 'another Host the board answers to (behind a proxy); repeatable').argParser((v: string, prev: string[] = []) => [...prev, v]))
  .option('--web-ui <url>', 'the Temporal Web UI every item links to (default SPARKY_UI_URL, else the dev server\'s)')
  .action(action(async (opts) => (await import('./board.ts')).boardCommand(opts)));

program.command('report <run>')
  .description('the weekly report of a run per workstream: state (✅ 🟡 ⚪), progress, actual against estimate, blockers and decisions needed')
  .option('--since <duration>', 'what happened in this window (default 7d)', '7d')
  .option('--format <format>', 'md or json', 'md')
  .action(action(async (run: string, opts: { since: string; format: string }) => (await import('./report.ts')).reportCommand(run, opts)));

program.command('status <run>')
  .description('show a run (its workflow id, its short run id, or "last")')
  .option('--json', 'the raw status query result')
  .option('--watch', 'follow it live until it ends')
  .action(action(async (run: string, opts) => (await import('./status.ts')).statusCommand(run, opts)));

program.command('watch <run>')
  .description('follow a run live until it ends (sparky status --watch): steps, gates, what agents do and spend')
  .action(action(async (run: string) => (await import('./status.ts')).statusCommand(run, { watch: true })));

const signing = (cmd: Command) => cmd
  .option('--key <file>', 'sign the decision with this ed25519 key (ssh-keygen -Y sign), or its .pub when ssh-agent holds it')
  .option('--signature <file>', 'send a signature made elsewhere over `sparky statement` output (ssh-keygen -Y sign -n sparky-gate)')
  .option('--signed-at <time>', 'with --signature: the time line of the statement that was signed');

signing(program.command('approve <run> <gate>')
  .description('approve a waiting gate (refusals are printed with their reason, exit 4)')
  .requiredOption('--as <name>', 'who approves (must be one of the gate\'s approvers)')
  .option('--comment <text>', 'a comment kept in the audit trail'))
  .action(action(async (run: string, gate: string, opts: { as: string; comment?: string }) =>
    (await import('./decide.ts')).decideCommand(run, gate, { ...opts, decision: 'approve' })));

signing(program.command('reject <run> <gate>')
  .description('reject a waiting gate: the reworked workstreams (default: the whole phase) are undone and wait for a retry')
  .requiredOption('--as <name>', 'who rejects')
  .requiredOption('--reason <text>', 'why (kept in the audit trail)')
  .addOption(new Option('--rework <workstreams>', 'redo only these workstreams of the phase (comma-separated or repeated); their same-phase dependents follow')
    .argParser(names)))
  .action(action(async (run: string, gate: string, opts: { as: string; reason: string; rework?: string[] }) =>
    (await import('./decide.ts')).decideCommand(run, gate, { ...opts, decision: 'reject' })));

program.command('retry <run> <step>')
  .description('run a step in attention again (<workstream>/<step>, or <workstream>); finished steps keep their outputs')
  .requiredOption('--as <name>', 'who decides (kept in the audit)')
  .option('--comment <text>', 'what was fixed')
  .action(action(async (run: string, step: string, opts: { as: string; comment?: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'retryStep', step, by: opts.as, comment: opts.comment })));

program.command('answer <run> <step> <answer>')
  .description('answer the question an agent step asked (<workstream>/<step>): the same session resumes with the answer')
  .requiredOption('--as <name>', 'who answers (the step\'s ask.to, when it names people)')
  .action(action(async (run: string, step: string, answer: string, opts: { as: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'answer', step, by: opts.as, answer })));

program.command('skip <run> <step>')
  .description('skip a step in attention; its workstream goes on with the next step')
  .requiredOption('--as <name>', 'who decides')
  .requiredOption('--reason <text>', 'why it may be skipped')
  .action(action(async (run: string, step: string, opts: { as: string; reason: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'skipStep', step, by: opts.as, comment: opts.reason })));

program.command('recheck <run> <gate>')
  .description('run a gate\'s failed checks again (after fixing what they measure)')
  .requiredOption('--as <name>', 'who asks')
  .option('--comment <text>', 'what was fixed')
  .action(action(async (run: string, gate: string, opts: { as: string; comment?: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'recheckGate', gate, by: opts.as, comment: opts.comment })));

program.command('abort <run>')
  .description('end the run: running steps are cancelled, then the plan\'s onAbort applies (compensate: undo everything, newest first)')
  .requiredOption('--as <name>', 'who aborts')
  .requiredOption('--reason <text>', 'why')
  .action(action(async (run: string, opts: { as: string; reason: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'abort', by: opts.as, comment: opts.reason })));

program.command('revise <run> <plan>')
  .description('give a waiting run a corrected plan (refused, with every reason, if it changes what already ran, or changes approvals, keys, git, notify or baseDir without the approvers\' signatures)')
  .option('--as <name>', 'who revises (kept in the audit)')
  .option('--comment <text>', 'why')
  .option('--statement', 'print the revision statement the approvers sign (ssh-keygen -Y sign -n sparky-gate), and who must sign it')
  .option('--time <iso>', 'with --statement: the statement time (default now); send it with --signed-at')
  .addOption(new Option('--key <file>', 'sign the revision statement with this key (repeat for several signers on one machine)').argParser((v: string, prev: string[] = []) => [...prev, v]))
  .addOption(new Option('--signature <file>', 'a signature made elsewhere over the statement (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]))
  .option('--signed-at <time>', 'the time line of the statement the signatures sign')
  .action(action(async (run: string, file: string, opts) => (await import('./revise.ts')).reviseCommand(run, file, opts)));

program.command('rework <run> <gate> <workstreams>')
  .description('send finished workstreams of a gate\'s phase back (its checks failed on their output, or it waits): undone, branches reset, then `sparky retry`; a fresh round of checks and votes follows')
  .requiredOption('--as <name>', 'who decides (kept in the audit)')
  .requiredOption('--reason <text>', 'why the work goes back (the workstreams show it)')
  .action(action(async (run: string, gate: string, workstreams: string, opts: { as: string; reason: string }) =>
    (await import('./resolve.ts')).resolveCommand(run, { action: 'rework', gate, by: opts.as, comment: opts.reason, rework: names(workstreams) })));

program.command('statement <run> <gate>')
  .description('print exactly the bytes a signed decision signs (pipe into ssh-keygen -Y sign -n sparky-gate)')
  .requiredOption('--decision <decision>', 'approve or reject')
  .option('--comment <text>', 'the comment an approval will carry')
  .option('--reason <text>', 'the reason a rejection will carry (the same statement line as --comment)')
  .addOption(new Option('--rework <workstreams>', 'the workstreams a rejection sends back, as `sparky reject --rework` will send them').argParser(names))
  .option('--time <iso>', 'the statement time (default now); send it as signedAt')
  .action(action(async (run: string, gate: string, opts: { decision: string; comment?: string; reason?: string; rework?: string[]; time?: string }) =>
    (await import('./statement.ts')).statementCommand(run, gate, opts)));

program.command('verify <run>')
  .description('re-verify every gate decision from the run\'s history alone (a run, or a `sparky history` file); exit 5 on any failure')
  .option('--json', 'the full verification report')
  .action(action(async (run: string, opts: { json?: boolean }) => (await import('./verify.ts')).verifyCommand(run, opts)));

program.command('attest <run>')
  .description('write the gate decisions as an in-toto Statement v1 (subject: the plan digest and the run)')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(action(async (run: string, opts: { out?: string }) => (await import('./attest.ts')).attestCommand(run, opts)));

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
  .description('export the run\'s event history as JSON (what `sparky verify` and Temporal replay read)')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(action(async (run: string, opts: { out?: string }) => (await import('./history.ts')).historyCommand(run, opts)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isClosedPipe(err)) endQuietly();
  if (err instanceof CliError) {
    console.error(`sparky: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`sparky: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}
