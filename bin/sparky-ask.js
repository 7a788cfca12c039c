#!/usr/bin/env node
// The `ask` tool Sparky gives an agent (docs/agents.md "Questions"): a stdio MCP server on the official
// @modelcontextprotocol/sdk, started by Claude Code (`--mcp-config`) or Codex (`[mcp_servers.sparky]`)
// as their child, so it needs nothing from the worker. A call writes the question to $SPARKY_ASK_FILE
// (the step's session directory) and does not answer: the agent runner (activities/agent.ts) sees the
// file and ends the agent's process tree there (the agent's turn ends at its question, nothing after it
// runs); `sparky answer` resumes the same session with the answer as the next message.
// Plain JavaScript, not TypeScript through tsx: it is ready in a quarter of a second, before the agent's
// first turn. Its names and words come from Sparky (activities/ask-tool.ts, the one definition) in
// $SPARKY_ASK_TOOL, set with the question file by activities/agent-cli.ts.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const file = process.env.SPARKY_ASK_FILE;
let tool;
try { tool = JSON.parse(process.env.SPARKY_ASK_TOOL ?? ''); } catch { tool = undefined; }
if (!file || !tool?.server || !tool.tool || !tool.description) {
  process.stderr.write('sparky ask server: SPARKY_ASK_FILE and SPARKY_ASK_TOOL are not set: Sparky starts this server for an agent step\n');
  process.exit(2);
}

const server = new McpServer({ name: tool.server, version: '1.0.0' });
server.registerTool(tool.tool, {
  title: 'Ask a person',
  description: tool.description,
  inputSchema: { question: z.string().min(1).describe('The question, with what you need to know and why') },
}, async ({ question }) => {
  writeFileSync(`${file}.tmp`, JSON.stringify({ question, at: new Date().toISOString() }));
  renameSync(`${file}.tmp`, file);
  // No answer from here: Sparky ends this session now and resumes it with the person's answer.
  return new Promise(() => undefined);
});
await server.connect(new StdioServerTransport());
