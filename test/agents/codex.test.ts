// Agent steps with the real codex CLI (scripts/setup installs it): every case of scenarios.ts, against
// the real dev server, real workers and real git worktrees, the model a scripted endpoint.
import { agentScenarios } from './scenarios.ts';

agentScenarios('codex');
