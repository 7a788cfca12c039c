// A step kind's part in its cache key, on the worker (the plan's part is plan/cache-key.ts KIND_CACHE):
// the version of the tool it runs (a shell step's program, `just`, the Docker engine and the image a
// `docker run` starts, the inference server's software and device), the files its arguments name (a
// script given to an interpreter is an input even when the plan does not declare it), and what a hit
// must find beside files (the image a `docker build` made). One entry per kind, in a table the
// compiler keeps complete: a kind added to the plan schema without its facts here fails `tsc`.
import { execa } from 'execa';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { StepBody } from '../plan/schema.ts';
import { fileDigest, kindOfPath } from './file-digest.ts';
import { InferenceClient } from './inference-client.ts';
import { AGENT_CLIS, findAgentCli } from '../host/agents.ts';
import type { InferenceDeps } from './inference.ts';

type StepKind = StepBody['kind'];
type OfKind<K extends StepKind> = Extract<StepBody, { kind: K }>;

/** What the facts may use: the worker's base directory, its `just`, its inference server, the step's environment. */
export interface FactsContext {
  workdir: string;
  justBin?: string;
  inference?: InferenceDeps;
  env: Record<string, string | undefined>;
  /** The run's directory and the worktree: a program there was made by the steps before (or is the base commit's), which the key already covers. */
  runDir?: string;
  worktree?: string;
}

export interface KindCacheFacts<T extends StepBody> {
  /** The tool's identity: a new version of it gives a new key. */
  tool(step: T, ctx: FactsContext): Promise<Record<string, string>>;
  /** Files the step reads that its fields name (beside declared inputs): existing files among its arguments. */
  files?(step: T, ctx: FactsContext): Promise<string[]>;
  /** Things beside files a hit must find as they were: recorded when the step is stored, checked before a hit. */
  promises?: {
    record(step: T): Promise<Record<string, string>>;
    /** Why the recorded promise no longer holds, or undefined. */
    check(step: T, recorded: Record<string, string>): Promise<string | undefined>;
  };
}

/** A program as `execa` would find it: a path (relative to `cwd`) or the first match on PATH. */
export async function resolveProgram(program: string, cwd: string, envPath: string | undefined): Promise<string | undefined> {
  if (program.includes('/')) return path.resolve(cwd, program);
  for (const dir of (envPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, program);
    if (await access(candidate, constants.X_OK).then(() => true, () => false) && await kindOfPath(candidate) === 'file') return candidate;
  }
  return undefined;
}

const within = (p: string, dir: string | undefined) => dir !== undefined && (p === dir || p.startsWith(`${dir}/`));

/** `program` → `sha256:…` (or why it is not known): the program's bytes are its version. */
async function programFact(program: string, cwd: string, ctx: Pick<FactsContext, 'env' | 'runDir' | 'worktree'>): Promise<string> {
  const { env } = ctx;
  if (program.includes('/')) {
    const p = path.resolve(cwd, program);
    // Made in this run by the steps before it (the chain covers them), or the worktree's (the base commit).
    if (within(p, ctx.runDir)) return `made in this run: $SPARKY_RUN_DIR${p.slice(ctx.runDir!.length)}`;
    if (within(p, ctx.worktree)) return `in the worktree: ${p.slice(ctx.worktree!.length + 1)}`;
  }
  const resolved = await resolveProgram(program, cwd, env.PATH ?? process.env.PATH);
  if (!resolved) return `${program} (not found)`;
  const digest = await fileDigest(resolved);
  return digest ? `sha256:${digest}` : `${resolved} (not a readable file)`;
}

/** Arguments that name existing files (relative to `cwd`): the scripts and data a command reads. */
async function argvFiles(args: string[], cwd: string): Promise<string[]> {
  const found: string[] = [];
  for (const arg of args) {
    if (arg === '' || arg.startsWith('-') || arg.includes('\n') || arg.length > 4096) continue;
    const p = path.resolve(cwd, arg);
    if (await kindOfPath(p) === 'file') found.push(p);
  }
  return found;
}

const docker = (args: string[]) => execa('docker', args, { reject: false, timeout: 30_000, stdin: 'ignore' });
let dockerVersion: { at: number; value: string } | undefined;
async function dockerServerVersion(): Promise<string> {
  if (dockerVersion && Date.now() - dockerVersion.at < 60_000) return dockerVersion.value;
  const r = await docker(['version', '--format', '{{.Server.Version}}']);
  const value = r.exitCode === 0 ? String(r.stdout).trim() : 'no engine';
  dockerVersion = { at: Date.now(), value };
  return value;
}
async function imageId(ref: string): Promise<string | undefined> {
  const r = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.exitCode === 0 ? String(r.stdout).trim() : undefined;
}

const inferenceStatus = new Map<string, { at: number; value: Record<string, string> }>();
async function inferenceServerFacts(deps: InferenceDeps | undefined): Promise<Record<string, string>> {
  if (!deps) return { server: 'none on this worker' };
  const known = inferenceStatus.get(deps.endpoint);
  if (known && Date.now() - known.at < 60_000) return known.value;
  const client = deps.client ?? new InferenceClient({ endpoint: deps.endpoint, progressEndpoint: deps.progressEndpoint, curve: deps.curve });
  try {
    const s = await client.status(10_000) as { version?: string; protocol?: number; backend?: string; devices?: { kind?: string; name?: string }[] };
    const value = {
      server: `${s.version ?? '?'} (protocol ${s.protocol ?? '?'})`, backend: String(s.backend ?? '?'),
      devices: (s.devices ?? []).map((d) => `${d.kind ?? '?'}:${d.name ?? '?'}`).join(', '),
    };
    inferenceStatus.set(deps.endpoint, { at: Date.now(), value });
    return value;
  } finally {
    if (!deps.client) client.close();
  }
}

/** The justfile `just` would use from `workdir`: the given one, else the first found upwards. */
async function justfileOf(justfile: string | undefined, workdir: string): Promise<string | undefined> {
  if (justfile) return justfile;
  for (let dir = workdir; ; dir = path.dirname(dir)) {
    for (const name of ['justfile', 'Justfile', '.justfile']) {
      if (await kindOfPath(path.join(dir, name)) === 'file') return path.join(dir, name);
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

export const KIND_FACTS: { readonly [K in StepKind]: KindCacheFacts<OfKind<K>> } = {
  shell: {
    tool: async (s, ctx): Promise<Record<string, string>> => {
      const cwd = path.resolve(ctx.workdir, s.cwd ?? '.');
      return s.shell ? { sh: await programFact('/bin/sh', cwd, ctx) } : { program: await programFact(s.run[0], cwd, ctx) };
    },
    files: async (s, ctx) => argvFiles(s.shell ? s.run.slice(1) : s.run, path.resolve(ctx.workdir, s.cwd ?? '.')),
  },
  just: {
    tool: async (_s, ctx) => ({ just: await programFact(ctx.justBin ?? 'just', ctx.workdir, ctx) }),
    files: async (s, ctx) => {
      const workdir = path.resolve(ctx.workdir, s.workdir ?? '.');
      const justfile = await justfileOf(s.justfile, workdir);
      return [...(justfile ? [justfile] : []), ...await argvFiles(s.args ?? [], workdir)];
    },
  },
  docker: {
    tool: async (s) => ({ engine: await dockerServerVersion(), ...(s.action === 'run' && s.image ? { image: (await imageId(s.image)) ?? `${s.image} (not present)` } : {}) }),
    promises: {
      record: async (s): Promise<Record<string, string>> => {
        const id = s.action === 'build' && s.tag ? await imageId(s.tag) : undefined;
        return id ? { image: id } : {};
      },
      check: async (s, recorded) => {
        if (!recorded.image || !s.tag) return undefined;
        const id = await imageId(s.tag);
        return id === recorded.image ? undefined : `the image ${s.tag} it built is ${id ? `now ${id.slice(0, 19)}` : 'gone'} (was ${recorded.image.slice(0, 19)})`;
      },
    },
  },
  inference: {
    tool: async (_s, ctx) => inferenceServerFacts(ctx.inference),
  },
  agent: {
    // The CLI's bytes are its version (the pinned npm version is named too, for people reading a miss).
    tool: async (s, ctx): Promise<Record<string, string>> => {
      const cli = findAgentCli(s.agent, { ...process.env, ...ctx.env });
      if ('missing' in cli) return { agent: `${s.agent} (not installed)` };
      const digest = await fileDigest(cli.bin);
      return { agent: `${s.agent} ${AGENT_CLIS[s.agent].version}`, cli: digest ? `sha256:${digest}` : `${cli.bin} (unreadable)` };
    },
    // The spec is read from where the agent works.
    files: async (s, ctx) => (s.spec ? [path.resolve(ctx.workdir, s.cwd ?? '.', s.spec)] : []),
  },
};

export function factsOf<T extends StepBody>(step: T): KindCacheFacts<T> {
  return KIND_FACTS[step.kind] as unknown as KindCacheFacts<T>;
}
