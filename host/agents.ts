// The coding-agent CLIs `agent` steps run: which npm packages and versions (scripts/setup installs them
// into .tools/agents/<name>/ — keep the versions here and there in step), where their native binaries
// sit for this platform, and what to tell a person when one is missing. Never imported by workflows.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.ts';

export type AgentName = 'claude-code' | 'codex';

export const AGENT_CLIS: Record<AgentName, { npm: string; version: string; binEnv: string }> = {
  'claude-code': { npm: '@anthropic-ai/claude-code', version: '2.1.328', binEnv: 'SPARKY_CLAUDE_CODE_BIN' },
  codex: { npm: '@openai/codex', version: '0.169.0', binEnv: 'SPARKY_CODEX_BIN' },
};

export const AGENTS_DIR = path.join(PROJECT_ROOT, '.tools', 'agents');

const npmArch = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : undefined;
const codexTriple = process.arch === 'x64' ? 'x86_64-unknown-linux-musl' : 'aarch64-unknown-linux-musl';

/** Where scripts/setup puts the native binary of `agent` on this platform. */
export function installedAgentBin(agent: AgentName, root = AGENTS_DIR): string | undefined {
  if (process.platform !== 'linux' || !npmArch) return undefined;
  return agent === 'claude-code'
    ? path.join(root, 'claude-code', 'node_modules', '@anthropic-ai', `claude-code-linux-${npmArch}`, 'claude')
    : path.join(root, 'codex', 'node_modules', '@openai', `codex-linux-${npmArch}`, 'vendor', codexTriple, 'bin', 'codex');
}

export interface AgentCli { bin: string; /** Directories the CLI wants on PATH (Codex ships its own `rg`). */ path: string[] }

/** The CLI for `agent` on this worker: `SPARKY_CLAUDE_CODE_BIN` / `SPARKY_CODEX_BIN`, else the installed one; or why there is none. */
export function findAgentCli(agent: AgentName, env: NodeJS.ProcessEnv = process.env): AgentCli | { missing: string } {
  const { npm, version, binEnv } = AGENT_CLIS[agent];
  const override = env[binEnv];
  if (override) {
    return existsSync(override) ? { bin: override, path: [] }
      : { missing: `${binEnv}=${override} names no file on this worker (unset it to use the one scripts/setup installs)` };
  }
  const bin = installedAgentBin(agent);
  if (bin && existsSync(bin)) {
    const extra = agent === 'codex' ? [path.join(path.dirname(path.dirname(bin)), 'codex-path')] : [];
    return { bin, path: extra.filter((p) => existsSync(p)) };
  }
  return { missing: `the ${agent} CLI (npm ${npm}@${version}) is not installed on this worker: run scripts/setup (it installs it into .tools/agents/${agent}), or set ${binEnv} to its binary` };
}
