// What the run's agent steps are doing right now, for `sparky status` and `sparky watch`: each running
// agent step's last heartbeat (activities/agent.ts: thinking or running a tool, the last event and its
// time, the session's turns, tokens and cost), read from its domain child's pending activity. A step
// waiting for a person or stalled is in the status itself (its workstream's attention).
import type { WorkflowClient } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RunStatus } from '../workflows/status.ts';

export interface AgentLive {
  state: string;
  tool?: string | null;
  lastEvent?: string | null;
  lastEventAt?: string | null;
  turns?: number;
  tokens?: number;
  costUsd?: number;
  attempt: number;
}

/** `<workstream>/<step>` → the running agent step's last heartbeat (none for steps not running now). */
export async function liveAgents(client: { workflow: WorkflowClient } | WorkflowClient, status: RunStatus): Promise<Map<string, AgentLive>> {
  const live = new Map<string, AgentLive>();
  const children = status.phases.flatMap((p) => p.domains.filter((d) => d.workstreams.some((w) => w.steps.some((s) => s.kind === 'agent' && s.state === 'running'))).map((d) => d.workflowId));
  await Promise.all(children.map(async (id) => {
    try {
      const workflows = 'workflow' in client ? client.workflow : client;
      const described = await workflows.getHandle(id).describe();
      for (const a of described.raw.pendingActivities ?? []) {
        const payload = a.heartbeatDetails?.payloads?.[0];
        if (!payload) continue;
        const beat = defaultPayloadConverter.fromPayload(payload as never) as (AgentLive & { step?: string }) | undefined;
        if (beat?.step) live.set(beat.step, { ...beat, attempt: a.attempt ?? 1 });
      }
    } catch { /* the child ended meanwhile */ }
  }));
  return live;
}

/** `thinking; last event assistant 12s ago; 3 turns, 1200 tokens, $0.0100`. */
export function liveText(a: AgentLive, nowMs = Date.now()): string {
  const ago = a.lastEventAt ? `${Math.max(0, Math.round((nowMs - Date.parse(a.lastEventAt)) / 1000))}s ago` : 'none yet';
  const spent = [a.turns !== undefined ? `${a.turns} turns` : '', a.tokens !== undefined ? `${a.tokens} tokens` : '', a.costUsd !== undefined ? `$${a.costUsd.toFixed(4)}` : ''].filter(Boolean).join(', ');
  return `${a.state}${a.tool ? ` (${a.tool})` : ''}; last event ${a.lastEvent ?? ''} ${ago}${spent ? `; ${spent}` : ''}${a.attempt > 1 ? `; attempt ${a.attempt}` : ''}`;
}
