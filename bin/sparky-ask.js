#!/usr/bin/env node
// The `ask` MCP server agent steps get (activities/ask-server.ts), through tsx like bin/sparky.js.
import { register } from 'tsx/esm/api';

register();
await import('../activities/ask-server.ts');
