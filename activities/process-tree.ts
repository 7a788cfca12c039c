// Ending a step means ending every process it started, not just the child we spawned: builds fork
// compilers, scripts start servers, and some of them ignore SIGTERM. Each step runs as the leader of
// its own session and process group (spawned detached), so the group can be signalled at once; on
// Linux we also follow /proc for descendants that moved to a group of their own, remembering each by
// pid + start time so that a recycled pid is never signalled.
import { readdirSync, readFileSync } from 'node:fs';

interface Proc { pid: number; ppid: number; pgid: number; sid: number; state: string; start: string }

function readProc(pid: number | string): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid pgrp session …`: comm may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]), start: rest[19] };
  } catch {
    return undefined;
  }
}

const hasProc = (() => { try { readdirSync('/proc/self'); return true; } catch { return false; } })();

function allProcs(): Proc[] {
  if (!hasProc) return [];
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(readProc).filter((p): p is Proc => p !== undefined);
}

/** Live (non-zombie) processes of the tree rooted at `root`: its group, its session, its descendants. */
export function treeMembers(root: number, known: Map<number, string> = new Map()): Proc[] {
  const procs = allProcs().filter((p) => p.state !== 'Z' && p.pid !== process.pid);
  const members = new Map<number, Proc>();
  // Linux never hands out a pid still used as a group or session id, so the root's pid can only
  // have been reused once its whole group is gone; a different start time then means a stranger.
  const rootStart = known.get(root);
  const reused = rootStart !== undefined && procs.some((p) => p.pid === root && p.start !== rootStart);
  for (const p of procs) {
    const inGroup = !reused && (p.pid === root || p.pgid === root || p.sid === root);
    if (inGroup || known.get(p.pid) === p.start) members.set(p.pid, p);
  }
  // Descendants by parent pid, to any depth (a grandchild may have called setsid).
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!members.has(p.pid) && members.has(p.ppid)) { members.set(p.pid, p); grew = true; }
  }
  for (const p of members.values()) known.set(p.pid, p.start);
  return [...members.values()];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone (ESRCH) or not ours */ }
}

function groupAlive(root: number): boolean {
  try { process.kill(-root, 0); } catch { return false; }
  // kill(…, 0) also succeeds for a group of zombies; /proc tells them apart.
  return !hasProc || allProcs().some((p) => p.pgid === root && p.state !== 'Z');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM to the whole tree, then SIGKILL to whatever is left after `graceMs`. Resolves when nothing
 * of the tree is alive (or after a last SIGKILL round if something survives even that).
 */
export async function killTree(root: number, graceMs: number, known: Map<number, string> = new Map()): Promise<{ signalled: number; forced: number }> {
  const alive = () => treeMembers(root, known);
  const first = alive();
  // The group is signalled only while it is the tree we know: once every member is gone, its id may
  // belong to a stranger's new group (pids are recycled, fast on a busy machine).
  // Without /proc (not Linux) the group is all we can see of the tree.
  const living = () => (hasProc ? alive().length > 0 : groupAlive(root));
  if (!living()) return { signalled: 0, forced: 0 };
  signal(-root, 'SIGTERM');
  for (const p of first) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && living()) await sleep(50);
  let forced = 0;
  for (let round = 0; round < 20; round += 1) {
    const rest = alive();
    if (!living()) break;
    forced = Math.max(forced, rest.length);
    signal(-root, 'SIGKILL');
    for (const p of rest) signal(p.pid, 'SIGKILL');
    await sleep(100);
  }
  return { signalled: first.length, forced };
}

/**
 * Processes on this machine whose environment carries `name=value`. Every process of a step attempt
 * inherits SPARKY_IDEMPOTENCY_KEY, so this finds what an earlier attempt left running when its worker
 * died (a SIGKILLed worker cannot end its children) — on Linux, for processes we may read.
 */
export function processesWithEnv(name: string, value: string): number[] {
  if (!hasProc) return [];
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`), Buffer.from([0])]);
      if (environ.includes(needle) && readProc(entry)?.state !== 'Z') pids.push(Number(entry));
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}

/** Counts every live process carrying `name=value` in its environment as a member of the tree. */
export function adoptByEnv(known: Map<number, string>, name: string, value: string): void {
  for (const pid of processesWithEnv(name, value)) {
    const proc = readProc(pid);
    if (proc) known.set(pid, proc.start);
  }
}

/** Ends every process tree left by earlier attempts of the step with this idempotency key. */
export async function endEarlierAttempts(idempotencyKey: string, graceMs: number): Promise<number> {
  const pids = processesWithEnv('SPARKY_IDEMPOTENCY_KEY', idempotencyKey);
  await Promise.all(pids.map((pid) => killTree(pid, graceMs)));
  return pids.length;
}
