// The `ask` tool Sparky gives an agent (docs/agents.md "Questions"): a stdio MCP server on the official
// @modelcontextprotocol/sdk, started by Claude Code (`--mcp-config`) or Codex (`[mcp_servers.sparky]`)
// as their child, so it needs nothing from the worker. A call writes the question to $SPARKY_ASK_FILE
// (the step's session directory) and does not answer: the agent runner sees the file, ends the
// agent's process tree (the agent's turn ends at its question, nothing after it runs) and puts the
// workstream in attention; `sparky answer` resumes the same session with the answer as the next message.
// Started by bin/sparky-ask.js (plain JS: it registers tsx, whatever directory the agent works in).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ASK_DESCRIPTION, ASK_FILE_VAR, ASK_SERVER, ASK_TOOL, type AskedQuestion } from './ask-tool.ts';

async function main(): Promise<void> {
  const file = process.env[ASK_FILE_VAR];
  if (!file) throw new Error(`${ASK_FILE_VAR} is not set: this server is started by Sparky for an agent step`);
  const server = new McpServer({ name: ASK_SERVER, version: '1.0.0' });
  server.registerTool(ASK_TOOL, {
    title: 'Ask a person',
    description: ASK_DESCRIPTION,
    inputSchema: { question: z.string().min(1).describe('The question, with what you need to know and why') },
  }, async ({ question }) => {
    const asked: AskedQuestion = { question, at: new Date().toISOString() };
    writeFileSync(`${file}.tmp`, JSON.stringify(asked));
    renameSync(`${file}.tmp`, file);
    // No answer from here: Sparky ends this session now and resumes it with the person's answer.
    return new Promise<never>(() => undefined);
  });
  await server.connect(new StdioServerTransport());
}

main().catch((err: unknown) => {
  process.stderr.write(`sparky ask server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
