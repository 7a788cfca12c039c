// The `ask` tool's contract between its MCP server (bin/sparky-ask.js, run by the agent's CLI) and the
// agent runner (activities/agent.ts): the names, the words the agent reads, the question file. The
// server gets them in its environment (SPARKY_ASK_TOOL, SPARKY_ASK_FILE) from activities/agent-cli.ts.
/** The file the question goes to, and what it holds (activities/agent.ts reads it). */
export const ASK_FILE_VAR = 'SPARKY_ASK_FILE';
/** The server's names and the tool's description, as JSON `{server, tool, description}`. */
export const ASK_TOOL_VAR = 'SPARKY_ASK_TOOL';
export interface AskedQuestion { question: string; at: string }

/** The tool's name for the agent: Claude Code calls it `mcp__sparky__ask`, Codex `sparky.ask`. */
export const ASK_SERVER = 'sparky';
export const ASK_TOOL = 'ask';

export const ASK_DESCRIPTION = 'Ask a person a question you cannot answer yourself from the task, the code or the tools '
  + '(a decision that is theirs, missing information, a credential you need). Your session pauses at this call until '
  + 'they answer; the answer arrives as the next message. Ask one clear question, with the options you see.';

