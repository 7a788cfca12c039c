// Records the workflow histories the determinism guard replays (test/workflows/replay.test.ts): real
// runs of representative plans on a real dev server with a real CPU worker, every run of the
// metaOrchestrator and its domain children (continue-as-new runs included), written to
// test/fixtures/histories/<release>/<scenario>.json, <release> being package.json's version. Histories of a
// release are kept as they are (test/fixtures/histories/README.md): the script refuses to write into a
// release folder that exists. Run it once per release, after the last change to workflow code:
//   npx tsx scripts/record-histories.ts                       # every scenario, into the release's folder
//   npx tsx scripts/record-histories.ts --out <dir> [names…]  # a scratch folder (to try the script)
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client } from '@temporalio/client';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../host/paths.ts';
import { startDevServer } from '../test/helpers/temporal.ts';
import { append, cpuWorker, lines, tempDir, undoable } from '../test/workflows/helpers.ts';
import { eventually } from '../test/helpers/wait.ts';
import type { RunStatus } from '../workflows/status.ts';
import { buildRevisionStatement, buildStartStatement, buildStatement, checksDigest, planDigest } from '../common/gate-statement.ts';
import { changeWords, planChanges } from '../plan/changes.ts';
import type { Plan } from '../plan/schema.ts';
import { resolvePlanPaths } from '../plan/paths.ts';
import { validatePlan } from '../plan/validate.ts';
import { makeKey, sshSign } from '../test/helpers/ssh.ts';

export const HISTORIES_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');

interface Scenario { name: string; run(client: Client, taskQueue: string, dir: string): Promise<string> }

/** The plan as the run holds it (validated, paths resolved), and its digest: what statements name. */
function resolvedPlan(plan: object): Plan {
  const result = validatePlan(plan);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return resolvePlanPaths(result.plan);
}
const digestOf = (plan: object) => planDigest(resolvedPlan(plan));

const start = (client: Client, taskQueue: string, workflowId: string, plan: object, options: object = {}) =>
  client.workflow.start('metaOrchestrator', { taskQueue, workflowId, args: [{ plan, options: { cpuTaskQueue: taskQueue, ...options } }] });

const gateWaiting = (client: Client, id: string, gate: string): Promise<RunStatus> => eventually(`${gate} waiting`,
  () => client.workflow.getHandle(id).query<RunStatus>('status'), (s) => s.phases.some((p) => p.gate?.id === gate && p.gate.state === 'waiting'));

export const scenarios: Scenario[] = [
  {
    // Two phases, three domains, a cross-domain dependency with an output reference, a checked gate
    // approved by quorum (signal + update) with an ignored vote in between.
    name: 'approved',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-approved';
      const plan = { name: 'history-approved', phases: [
        { id: 'build', domains: [
          { id: 'model', workstreams: [{ id: 'M1', steps: [{ id: 'train', kind: 'shell', run: ['sh', '-c', 'echo \'{"value": 7}\''], outputs: { from: 'stdout-last-line' },
            compensate: append('untrain', `${dir}/undo.log`, 'untrain') }] }] },
          { id: 'interface', workstreams: [{ id: 'I1', dependsOn: ['M1'], steps: [append('wire', `${dir}/out.log`, '${{ outputs.M1.train.value }}')] }] },
        ], gate: { id: 'gate-1', checks: [{ id: 'ok', kind: 'command', run: ['true'] }], approval: { approvers: ['alice', 'bob', 'carol'], required: 2 } } },
        { id: 'ship', domains: [{ id: 'integration', workstreams: [{ id: 'X1', dependsOn: ['I1'], steps: [append('release', `${dir}/out.log`, 'X1')] }] }] },
      ] };
      const handle = await start(client, taskQueue, id, plan);
      await gateWaiting(client, id, 'gate-1');
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'mallory' });
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'alice', comment: 'ok' });
      await handle.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: 'bob', decision: 'approve' }] });
      await handle.result();
      return id;
    },
  },
  {
    // A step fails after its retries: the phase fails and the finished steps are undone newest first.
    name: 'compensated',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-compensated';
      const plan = { name: 'history-compensated', onFailure: 'compensate', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
        { id: 'A', steps: [undoable('a', `${dir}/done.log`, 'A', `${dir}/undo.log`)] },
        { id: 'B', dependsOn: ['A'], steps: [undoable('b', `${dir}/done.log`, 'B', `${dir}/undo.log`),
          { id: 'boom', kind: 'shell', run: ['false'], retry: { maximumAttempts: 2, initialInterval: '100ms' } }] },
      ] }] }] };
      await start(client, taskQueue, id, plan).then((h) => h.result()).catch(() => undefined);
      return id;
    },
  },
  {
    // A domain bigger than continueAsNewAfter, paused and resumed on the way.
    name: 'continued-as-new',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-continued';
      const ws = Array.from({ length: 7 }, (_, i) => ({ id: `W${i}`, ...(i ? { dependsOn: [`W${i - 1}`] } : {}),
        steps: [{ id: 's', kind: 'shell', run: ['sh', '-c', `sleep 0.3; echo W${i} >> ${dir}/w.log`] }] }));
      const handle = await start(client, taskQueue, id, { name: 'history-continued', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: ws }] }] },
        { continueAsNewAfter: 3 });
      await eventually('W1 done', () => lines(`${dir}/w.log`), (l) => l.includes('W1'));
      await handle.signal('pause', {});
      await new Promise((r) => setTimeout(r, 1000));
      await handle.signal('resume', {});
      await handle.result();
      return id;
    },
  },
  {
    // Fix and continue: a step fails until a file exists (attention, retryStep), a skipped step, failed gate
    // checks fixed and rechecked, a plan revision, then a rejection with rework and a fresh quorum.
    name: 'attention',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-attention';
      const once = { retry: { maximumAttempts: 1 } };
      const plan = { name: 'history-attention', phases: [
        { id: 'p1', domains: [
          { id: 'd1', workstreams: [
            { id: 'A', steps: [undoable('a', `${dir}/done.log`, 'A', `${dir}/undo.log`),
              { id: 'needs-file', kind: 'shell', run: ['test', '-f', `${dir}/fixed`], ...once }] },
            { id: 'B', dependsOn: ['A'], steps: [{ id: 'flaky', kind: 'shell', run: ['false'], ...once }, append('b', `${dir}/done.log`, 'B')] },
          ] },
          { id: 'd2', workstreams: [{ id: 'C', steps: [undoable('c', `${dir}/done.log`, 'C', `${dir}/undo.log`)] }] },
        ], gate: { id: 'g1', checks: [{ id: 'report', kind: 'file', path: `${dir}/report.txt` }], approval: { approvers: ['alice', 'bob'], required: 2 } } },
      ] };
      const handle = await start(client, taskQueue, id, plan);
      const st = () => client.workflow.getHandle(id).query<RunStatus>('status');
      const ws = (s: RunStatus, w: string) => s.phases[0].domains.flatMap((d) => d.workstreams).find((x) => x.id === w);
      await eventually('A in attention', st, (s) => ws(s, 'A')?.state === 'attention');
      await handle.signal('retryStep', { step: 'A/nope', by: 'alice' }); // ignored: not in attention
      const revised = structuredClone(plan);
      revised.phases[0].domains[0].workstreams[0].steps[1] = { id: 'needs-file', kind: 'shell', run: ['sh', '-c', `touch ${dir}/fixed`], ...once };
      await handle.executeUpdate('revisePlan', { args: [{ plan: revised, by: 'alice', comment: 'create the file instead' }] });
      await handle.signal('retryStep', { step: 'A/needs-file', by: 'alice' });
      await eventually('B in attention', st, (s) => ws(s, 'B')?.state === 'attention');
      await handle.executeUpdate('resolve', { args: [{ action: 'skipStep', step: 'B/flaky', by: 'bob', comment: 'known flake' }] });
      await eventually('checks failed', st, (s) => s.phases[0].gate?.state === 'checks-failed');
      writeFileSync(`${dir}/report.txt`, 'ok');
      await handle.signal('recheckGate', { gate: 'g1', by: 'carol' });
      await gateWaiting(client, id, 'g1');
      await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
      await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'bob', decision: 'reject', comment: 'redo C', rework: ['C'] }] });
      await eventually('C reworked', st, (s) => ws(s, 'C')?.state === 'attention');
      await handle.signal('retryStep', { step: 'C', by: 'bob' });
      await gateWaiting(client, id, 'g1');
      await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
      await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'bob', decision: 'approve' }] });
      await handle.result();
      return id;
    },
  },
  {
    // A step fails and waits in attention; a person aborts: everything finished is undone (onAbort compensate).
    name: 'aborted',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-aborted';
      const plan = { name: 'history-aborted', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
        { id: 'A', steps: [undoable('a', `${dir}/done.log`, 'A', `${dir}/undo.log`), { id: 'boom', kind: 'shell', run: ['false'], retry: { maximumAttempts: 1 } }] },
      ] }] }] };
      const handle = await start(client, taskQueue, id, plan);
      await eventually('A in attention', () => handle.query<RunStatus>('status'), (s) => s.state === 'attention');
      await handle.executeUpdate('resolve', { args: [{ action: 'abort', by: 'carol', comment: 'wrong branch' }] });
      await handle.result().catch(() => undefined);
      return id;
    },
  },
  {
    // Cancelled while a step runs: the step is cancelled, then the finished step is undone.
    name: 'cancelled',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-cancelled';
      const plan = { name: 'history-cancelled', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
        { id: 'A', steps: [undoable('a', `${dir}/done.log`, 'A', `${dir}/undo.log`),
          { id: 'slow', kind: 'shell', run: ['sh', '-c', `echo slow >> ${dir}/done.log; sleep 30`] }] },
      ] }] }] };
      const handle = await start(client, taskQueue, id, plan);
      await eventually('slow step running', () => lines(`${dir}/done.log`), (l) => l.includes('slow'));
      await handle.cancel();
      await handle.result().catch(() => undefined);
      return id;
    },
  },
  {
    // Parked children (workflows/parked.ts): while g1 waits, p2's two domains are started parked; a
    // revision removes d2b and changes d2a's step, so on approval d2a starts with the revised
    // definition and d2b's parked child is cancelled; at g2 the run is aborted and p3's parked child is cancelled.
    name: 'parked',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-parked';
      const ws = (w: string) => ({ id: w, steps: [append('s', `${dir}/done.log`, w)] });
      const gate = (g: string) => ({ id: g, approval: { approvers: ['alice'], required: 1 } });
      const plan = { name: 'history-parked', phases: [
        { id: 'p1', domains: [{ id: 'd1', workstreams: [ws('W1')] }], gate: gate('g1') },
        { id: 'p2', domains: [{ id: 'd2a', workstreams: [ws('W2a')] }, { id: 'd2b', workstreams: [ws('W2b')] }], gate: gate('g2') },
        { id: 'p3', domains: [{ id: 'd3', workstreams: [ws('W3')] }] },
      ] };
      const handle = await start(client, taskQueue, id, plan);
      await gateWaiting(client, id, 'g1');
      const revised = structuredClone(plan);
      revised.phases[1].domains = [{ id: 'd2a', workstreams: [{ id: 'W2a', steps: [append('s', `${dir}/done.log`, 'W2a-revised')] }] }];
      await handle.executeUpdate('revisePlan', { args: [{ plan: revised, by: 'alice', comment: 'd2b is not needed' }] });
      await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
      await gateWaiting(client, id, 'g2');
      await eventually('p3 parked', () => client.workflow.getHandle(`${id}/p3/d3`).describe(), (d) => d.status.name === 'RUNNING');
      await handle.executeUpdate('resolve', { args: [{ action: 'abort', by: 'carol', comment: 'stop here' }] });
      await handle.result().catch(() => undefined);
      return id;
    },
  },
  {
    // Signed decisions: keyed approvers (ssh-keygen keys made now), a start signed with a key the plan
    // lists (starters), a decideGate update signed by alice for round 1, a signal with someone else's
    // signature (ignored and audited), bob's signed signal, the run's record (memo: rounds, decisions,
    // the decided gate), and notify calls to a webhook that is down.
    name: 'signed',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-signed';
      const [alice, bob, dana] = [await makeKey(dir, 'alice'), await makeKey(dir, 'bob'), await makeKey(dir, 'dana')];
      const plan = { name: 'history-signed', notify: { webhooks: [{ url: 'http://127.0.0.1:9/down' }] }, starters: [{ name: 'dana', key: dana.line }], phases: [
        { id: 'build', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [append('s', `${dir}/out.log`, 'W1')] }] }],
          gate: { id: 'gate-1', preventSelfApproval: true, checks: [{ id: 'ok', kind: 'command', run: ['true'] }],
            approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 } } },
        { id: 'ship', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('s', `${dir}/out.log`, 'W2')] }] }] },
      ] };
      const digest = digestOf(plan);
      const startedAt = new Date().toISOString();
      const startSig = await sshSign(buildStartStatement({ plan: plan.name, planDigest: digest, run: id, by: 'dana', time: startedAt }), dana);
      const handle = await start(client, taskQueue, id, plan, { startedBy: { name: 'dana', signedAt: startedAt, signature: startSig } });
      const status = await gateWaiting(client, id, 'gate-1');
      const gate = status.phases[0].gate!;
      const fields = (time: string) => ({ plan: plan.name, planDigest: digest, run: id, gate: 'gate-1', round: gate.round ?? 1, rework: [],
        decision: 'approve' as const, comment: '', checksDigest: checksDigest(gate.checks), time });
      const at = new Date().toISOString();
      const aliceSig = await sshSign(buildStatement(fields(at)), alice);
      await handle.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: at, signature: aliceSig }] });
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'bob', signedAt: at, signature: aliceSig });
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'bob', signedAt: at, signature: await sshSign(buildStatement(fields(at)), bob) });
      await handle.result();
      return id;
    },
  },
  {
    // Rounds (0.2): a signed rejection reworking one workstream, its round-1 approval re-sent in round 2
    // (ignored), fresh signed approvals; then at the next gate an operator's rework from checks-failed
    // (signal reworkGate), a retry, a recheck and an approval.
    name: 'rounds',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-rounds';
      const [alice, bob] = [await makeKey(dir, 'alice'), await makeKey(dir, 'bob')];
      const plan = { name: 'history-rounds', phases: [
        { id: 'p1', domains: [{ id: 'd1', workstreams: [
          { id: 'W1', steps: [undoable('s', `${dir}/done.log`, 'W1', `${dir}/undo.log`)] },
          { id: 'W2', steps: [append('s', `${dir}/done.log`, 'W2')] }] }],
        gate: { id: 'gate-1', approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 } } },
        { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W3', steps: [append('s', `${dir}/report.txt`, 'W3')] }] }],
          gate: { id: 'gate-2', checks: [{ id: 'report', kind: 'file', path: `${dir}/ready` }], approval: { approvers: ['carol'] } } },
      ] };
      const digest = digestOf(plan);
      const handle = await start(client, taskQueue, id, plan);
      const st = () => client.workflow.getHandle(id).query<RunStatus>('status');
      const vote = async (key: Awaited<ReturnType<typeof makeKey>>, decision: 'approve' | 'reject', comment = '', rework: string[] = []) => {
        const s = await gateWaiting(client, id, 'gate-1');
        const g = s.phases[0].gate!;
        const at = new Date().toISOString();
        const signature = await sshSign(buildStatement({ plan: plan.name, planDigest: digest, run: id, gate: 'gate-1', round: g.round ?? 1, rework,
          decision, comment, checksDigest: checksDigest(g.checks), time: at }), key);
        return { gate: 'gate-1', approver: key.name, decision, ...(comment ? { comment } : {}), ...(rework.length ? { rework } : {}), signedAt: at, signature };
      };
      const first = await vote(alice, 'approve');
      await handle.executeUpdate('decideGate', { args: [first] });
      await handle.executeUpdate('decideGate', { args: [await vote(bob, 'reject', 'W1 is wrong', ['W1'])] });
      await eventually('W1 reworked', st, (s) => s.phases[0].domains[0].workstreams[0].state === 'attention');
      await handle.signal('retryStep', { step: 'W1', by: 'bob' });
      await eventually('round 2', st, (s) => s.phases[0].gate?.state === 'waiting' && s.phases[0].gate.round === 2);
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'alice', signedAt: first.signedAt, signature: first.signature }); // ignored: round 1
      await handle.executeUpdate('decideGate', { args: [await vote(alice, 'approve')] });
      await handle.signal('approveGate', await vote(bob, 'approve'));
      await eventually('gate-2 checks failed', st, (s) => s.phases[1].gate?.state === 'checks-failed');
      await handle.signal('reworkGate', { gate: 'gate-2', by: 'carol', reason: 'the report is stale', rework: ['W3'] });
      await eventually('W3 reworked', st, (s) => s.phases[1].domains[0].workstreams[0].state === 'attention');
      writeFileSync(`${dir}/ready`, 'yes');
      await handle.executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'W3', by: 'carol' }] });
      await gateWaiting(client, id, 'gate-2');
      await handle.signal('approveGate', { gate: 'gate-2', approver: 'carol' });
      await handle.result();
      return id;
    },
  },
  {
    // Revisions (0.2) at a waiting gate: a check added (unsigned; it runs, fails, is rechecked, votes start
    // over), then the quorum lowered by a revision signed by the current approvers, which approves at once.
    name: 'revised',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-revised';
      const [alice, bob] = [await makeKey(dir, 'alice'), await makeKey(dir, 'bob')];
      const approval = { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 };
      const plan = { name: 'history-revised', phases: [
        { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [append('s', `${dir}/done.log`, 'W1')] }] }],
          gate: { id: 'gate-1', approval } as Record<string, unknown> },
        { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('s', `${dir}/done.log`, 'W2')] }] }] },
      ] };
      const handle = await start(client, taskQueue, id, plan);
      const st = () => client.workflow.getHandle(id).query<RunStatus>('status');
      const approve = async (key: Awaited<ReturnType<typeof makeKey>>) => {
        const s = await gateWaiting(client, id, 'gate-1');
        const g = s.phases[0].gate!;
        const at = new Date().toISOString();
        const signature = await sshSign(buildStatement({ plan: 'history-revised', planDigest: s.planDigest!, run: id, gate: 'gate-1', round: g.round ?? 1, rework: [],
          decision: 'approve', comment: '', checksDigest: checksDigest(g.checks), time: at }), key);
        await handle.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: key.name, decision: 'approve', signedAt: at, signature }] });
      };
      await approve(alice);
      const checked = structuredClone(plan);
      checked.phases[0].gate = { id: 'gate-1', checks: [{ id: 'ready', kind: 'file', path: `${dir}/ready` }], approval };
      await handle.executeUpdate('revisePlan', { args: [{ plan: checked, by: 'dana', comment: 'add the readiness check' }] });
      await eventually('checks failed', st, (s) => s.phases[0].gate?.state === 'checks-failed');
      writeFileSync(`${dir}/ready`, 'yes');
      await handle.signal('recheckGate', { gate: 'gate-1', by: 'dana' });
      await approve(alice);
      const lowered = structuredClone(checked);
      (lowered.phases[0].gate as { approval: { required: number } }).approval = { ...approval, required: 1 };
      const inForce = await client.workflow.getHandle(id).query<{ plan: Plan; planDigest: string; revision: number }>('plan');
      const at = new Date().toISOString();
      const statement = buildRevisionStatement({ plan: 'history-revised', run: id, revision: inForce.revision + 1, planDigest: inForce.planDigest,
        newPlanDigest: digestOf(lowered), changes: changeWords(planChanges(inForce.plan, resolvedPlan(lowered))), time: at });
      await handle.executeUpdate('revisePlan', { args: [{ plan: lowered, by: 'dana', signedAt: at, signatures: [await sshSign(statement, alice), await sshSign(statement, bob)] }] });
      await handle.result();
      return id;
    },
  },
  {
    // Git flow (0.2): a committing step, a rejection reworking it (its branch and worktree reset to the
    // phase's base: gitResetWorkstreams), a rerun that commits anew, approval and merge.
    name: 'git-rework',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-git-rework';
      const repo = path.join(dir, 'repo');
      mkdirSync(repo);
      const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd: repo });
      await git('init', '-q', '-b', 'main');
      writeFileSync(path.join(repo, 'README'), 'repo\n');
      await git('add', '.');
      await git('commit', '-qm', 'init');
      const plan = { name: 'history-git-rework', baseDir: dir, git: { repo }, phases: [
        { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [
          { id: 'write', kind: 'shell', run: ['sh', '-c', 'date +%s%N > out.txt'], cwd: repo, commit: 'W1 output' }] }] }],
          gate: { id: 'gate-1', approval: { approvers: ['alice'] } } },
      ] };
      const handle = await start(client, taskQueue, id, plan);
      const st = () => client.workflow.getHandle(id).query<RunStatus>('status');
      await gateWaiting(client, id, 'gate-1');
      await handle.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: 'alice', decision: 'reject', comment: 'redo', rework: ['W1'] }] });
      await eventually('W1 reworked', st, (s) => s.phases[0].domains[0].workstreams[0].state === 'attention');
      await handle.signal('retryStep', { step: 'W1', by: 'alice' });
      await gateWaiting(client, id, 'gate-1');
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'alice' });
      await handle.result();
      return id;
    },
  },
  {
    // Re-runs (0.2): a plan with cached steps run once (not recorded) to fill the cache, then again:
    // hits with their source and fingerprints across domains, an uncached step, a rejection reworking a
    // cached workstream (its compensation skipped: it came from the cache; its rerun refuses the rejected
    // key), a retry, approval.
    name: 'cached',
    async run(client, taskQueue, dir) {
      const plan = { name: 'history-cached', baseDir: dir, phases: [
        { id: 'p1', domains: [
          { id: 'd1', workstreams: [{ id: 'A', steps: [{ id: 'a', kind: 'shell', run: ['sh', '-c', 'echo \'{"v": 1}\''], outputs: { from: 'stdout-last-line' }, cache: true,
            compensate: append('undo-a', `${dir}/undo.log`, 'undo-a') }] }] },
          { id: 'd2', workstreams: [{ id: 'B', dependsOn: ['A'], steps: [
            { id: 'b', kind: 'shell', run: ['sh', '-c', 'echo ${{ outputs.A.a.v }} > b.txt'], cache: { outputs: ['b.txt'] } },
            { id: 'now', kind: 'shell', run: ['date'], cache: false }] }] },
        ], gate: { id: 'gate-1', approval: { approvers: ['alice'] } } },
      ] };
      const fill = await start(client, taskQueue, 'sparky-history-fill-for-cached', plan);
      await gateWaiting(client, fill.workflowId, 'gate-1');
      await fill.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: 'alice', decision: 'approve' }] });
      await fill.result();
      const id = 'sparky-history-cached';
      const handle = await start(client, taskQueue, id, plan);
      await gateWaiting(client, id, 'gate-1');
      await handle.executeUpdate('decideGate', { args: [{ gate: 'gate-1', approver: 'alice', decision: 'reject', comment: 'stale', rework: ['A'] }] });
      await eventually('A reworked', () => client.workflow.getHandle(id).query<RunStatus>('status'),
        (s) => s.phases[0].domains[0].workstreams[0].state === 'attention');
      await handle.signal('retryStep', { step: 'A', by: 'alice' });
      await gateWaiting(client, id, 'gate-1');
      await handle.signal('approveGate', { gate: 'gate-1', approver: 'alice' });
      await handle.result();
      return id;
    },
  },
  {
    // A dry run (0.2) of a subset: inspectStep on each selected step's queue, nothing started.
    name: 'dry-run',
    async run(client, taskQueue, dir) {
      const id = 'sparky-history-dry-run';
      const plan = { name: 'history-dry-run', baseDir: dir, phases: [
        { id: 'p1', domains: [{ id: 'd1', workstreams: [
          { id: 'A', steps: [{ id: 'a', kind: 'shell', run: ['true'], cache: true }] },
          { id: 'B', dependsOn: ['A'], steps: [{ id: 'b', kind: 'shell', run: ['true'], cache: true }, { id: 'c', kind: 'shell', run: ['true'] }] },
          { id: 'X', steps: [{ id: 'x', kind: 'shell', run: ['true'] }] },
        ] }], gate: { id: 'gate-1', checks: [{ id: 'ok', kind: 'command', run: ['true'] }] } },
      ] };
      await start(client, taskQueue, id, plan, { dryRun: true, only: ['B'] }).then((h) => h.result());
      return id;
    },
  },
];

/** Every run (continue-as-new included) of the workflow and its children, oldest first. */
async function collect(client: Client, rootId: string): Promise<{ workflowId: string; runId: string; history: unknown }[]> {
  const out: { workflowId: string; runId: string; history: unknown; start: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${rootId}"` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    out.push({ workflowId: wf.workflowId, runId: wf.runId, history: JSON.parse(historyToJSON(history)), start: wf.startTime.getTime() });
  }
  return out.sort((a, b) => a.start - b.start || a.workflowId.localeCompare(b.workflowId)).map(({ start: _s, ...rest }) => rest);
}

/** Where to write, and which scenarios: a release folder holds every scenario, a scratch folder any. */
export function target(argv: string[], release: string, names: string[]): { dir: string; label: string; only: string[] } {
  const only = [...argv];
  let out: string | undefined;
  const at = only.indexOf('--out');
  if (at >= 0) {
    out = only[at + 1];
    if (!out || out.startsWith('--')) throw new Error('--out needs a folder: npx tsx scripts/record-histories.ts --out <scratch folder> [scenario…]');
    only.splice(at, 2);
  }
  const flags = only.filter((a) => a.startsWith('--'));
  if (flags.length) throw new Error(`unknown option ${flags.join(', ')}: the options are --out <scratch folder> and scenario names`);
  const unknown = only.filter((n) => !names.includes(n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}: the scenarios are ${names.join(', ')}`);
  if (!out && only.length) {
    throw new Error(`a release folder holds every scenario: record ${only.join(', ')} alone into a scratch folder with --out <dir>`);
  }
  const dir = out ? path.resolve(out) : path.join(HISTORIES_DIR, release);
  if (existsSync(dir)) {
    throw new Error(out ? `${dir} exists: give --out a folder that does not exist yet`
      : `${path.relative(PROJECT_ROOT, dir)} exists: the histories recorded on release ${release} are kept as they are, so that runs started`
        + ' on it keep replaying against later code (test/fixtures/histories/README.md). Record a new release after bumping'
        + ' package.json\'s version, or try the script with --out <scratch folder>.');
  }
  return { dir, label: out ? dir : path.relative(PROJECT_ROOT, dir), only };
}

async function main(): Promise<void> {
  const release = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const { dir, label, only } = target(process.argv.slice(2), release, scenarios.map((s) => s.name));
  const head = await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, reject: false });
  const dirty = (await execa('git', ['status', '--porcelain', '--', 'workflows', 'common', 'plan'], { cwd: PROJECT_ROOT, reject: false })).stdout.trim();
  const commit = head.exitCode === 0 ? `${head.stdout.trim()}${dirty ? ' (with uncommitted changes)' : ''}` : 'unknown';
  // Written whole or not at all: a failed recording leaves no half release folder behind.
  const partial = `${dir}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  const env = await startDevServer();
  const { worker, taskQueue } = await cpuWorker(env);
  try {
    await worker.runUntil(async () => {
      for (const scenario of scenarios.filter((s) => only.length === 0 || only.includes(s.name))) {
        const tmp = await tempDir(`sparky-history-${scenario.name}-`);
        const id = await scenario.run(env.client, taskQueue, tmp);
        const runs = await eventually('visibility of every run', () => collect(env.client, id), (r) => r.length > 0 && r.every((x) => x.history), 15_000);
        const file = path.join(partial, `${scenario.name}.json`);
        writeFileSync(file, `${JSON.stringify({ recordedWith: '@temporalio/* 1.24', release, commit, scenario: scenario.name, runs }, null, 1)}\n`);
        console.log(`${label}/${scenario.name}.json: ${runs.length} run(s)`);
      }
    });
    renameSync(partial, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
    await env.teardown();
  }
  if (dir.startsWith(HISTORIES_DIR)) console.log(`recorded release ${release}: list its scenarios in test/workflows/replay.test.ts (EXPECTED) and commit ${label}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (err) {
    console.error(`record-histories: ${(err as Error).message}`);
    process.exit(1);
  }
}
