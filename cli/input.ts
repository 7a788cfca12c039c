// `sparky input <plan> [--id ID --as NAME --key KEY]`: the workflow input for a run started by hand
// (`temporal workflow start --input-file`, tctl): the loaded plan (allowed_signers resolved), and the
// starter, signed when a key is given. A signed start names the run, so it needs the workflow id the
// run will have. A plan whose keyed gates have preventSelfApproval needs a signed start: without one
// the input is refused here with the fix, as the run would refuse it.
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import { CliError } from './connection.ts';
import { startedBy, starterName } from './run.ts';

export async function inputCommand(file: string, opts: { id?: string; as?: string; key?: string }): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) { console.error(formatErrors(loaded.errors)); return 2; }
  if (opts.key && !opts.id) throw new CliError('--key signs a start statement that names the run: give the workflow id with --id (and start the run with that id)', 2);
  const starter = opts.as || opts.key || opts.id
    ? await startedBy(loaded.plan, opts.id ?? '(any)', starterName(opts.as), opts.key)
    : undefined;
  if (!starter) {
    // No starter asked for: still refuse a plan that cannot start without one.
    await startedBy(loaded.plan, opts.id ?? '(any)', starterName(undefined), undefined).catch((e: Error) => { throw new CliError(`${e.message.replace(/; nothing was started$/, '')}: give --id, --as and --key`, 2); });
  }
  console.log(JSON.stringify({ plan: loaded.plan, ...(starter ? { options: { startedBy: starter } } : {}) }));
  return 0;
}
