// The words of a notification: what happened, what the gate waits for, the statement to sign and the
// exact commands to decide (sparky, temporal, Web UI). One text for Slack-compatible webhooks
// (`{text}`), and the same text plus the facts as fields for generic JSON webhooks.
import type { NotifyEventData } from '../common/activity-types.ts';
import { buildStatement } from '../common/gate-statement.ts';
import { webUiRunLink } from '../host/web-ui.ts';

/** Where the Web UI is (host/web-ui.ts on the worker): its URL, or why it is unknown and where to set it. */
export interface MessageContext { uiUrl?: string; uiNote?: string; namespace: string }

export function webUiLink(ctx: MessageContext, runWorkflowId: string): string | undefined {
  return ctx.uiUrl ? webUiRunLink(ctx.uiUrl, ctx.namespace, runWorkflowId) : undefined;
}

function headline(e: NotifyEventData): string {
  const run = `run ${e.runWorkflowId} (plan ${e.plan})`;
  const g = e.gate;
  const q = e.question;
  if (q && e.event === 'attention') return `The agent of ${q.step} in ${run} asks ${q.to.length ? q.to.join(', ') : 'a person'}: ${q.text}${q.deadline ? ` (escalates at ${q.deadline})` : ''}`;
  if (q && e.event === 'escalated') return `Nobody answered the question of ${q.step} in ${run} in time${q.escalatedTo?.length ? `: escalated to ${q.escalatedTo.join(', ')}` : ''}: ${q.text}`;
  switch (e.event) {
    case 'waiting': return `Gate ${g?.id} of ${run} waits for approval: ${g?.approvals.length ?? 0} of ${g?.required} (${g?.approvers.join(', ')})${g?.deadline ? `; times out at ${g.deadline}` : ''}`;
    case 'escalated': return `Gate ${g?.id} of ${run} was escalated to ${g?.approvers.join(', ')} (${g?.required} needed)${g?.deadline ? `; times out at ${g.deadline}` : ''}`;
    case 'decided': {
      const d = e.decision;
      const who = d ? `${d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : d.decision} by ${d.approver}${d.fingerprint ? ` (key ${d.fingerprint})` : ''}${d.comment ? `: ${d.comment}` : ''}` : 'decided';
      return `Gate ${g?.id} of ${run} ${who}; the gate is ${g?.state ?? 'decided'} (${g?.approvals.length ?? 0} of ${g?.required})`;
    }
    case 'attention': return `${run} needs attention`;
    case 'finished': return `${run} ended: ${e.state ?? 'finished'}${e.error ? ` — ${e.error.split('\n')[0]}` : ''}`;
  }
  return `${run}: ${String(e.event)}`;
}

/** The commands that answer an agent's question (the session resumes with the answer). */
export function answerCommands(e: NotifyEventData, ctx: MessageContext): string[] {
  const q = e.question;
  if (!q) return [];
  return [
    `npx sparky answer ${e.runWorkflowId} ${q.step} "…" --as NAME`,
    `temporal workflow signal --workflow-id ${e.runWorkflowId} --namespace ${ctx.namespace} --name answerQuestion --input '${JSON.stringify({ step: q.step, by: 'NAME', answer: '…' })}'`,
  ];
}

/** The commands that decide a waiting gate, signed where the gate's approvers have keys. */
export function decideCommands(e: NotifyEventData, ctx: MessageContext): string[] {
  const g = e.gate;
  if (!g) return [];
  const signed = (g.signedApprovers?.length ?? 0) > 0;
  const update = JSON.stringify({ gate: g.id, approver: 'NAME', decision: 'approve', ...(signed ? { signedAt: e.at, signature: '<armored signature>' } : {}) });
  return [
    `npx sparky approve ${e.runWorkflowId} ${g.id} --as NAME${signed ? ' --key ~/.ssh/id_ed25519' : ''}`,
    `npx sparky reject ${e.runWorkflowId} ${g.id} --as NAME --reason "…"${signed ? ' --key ~/.ssh/id_ed25519' : ''}`,
    `temporal workflow update execute --workflow-id ${e.runWorkflowId} --namespace ${ctx.namespace} --name decideGate --input '${update}'`,
  ];
}

/** The statement an approver signs to approve now (its time is the event's), when the facts are there. */
export function statementToSign(e: NotifyEventData): string | undefined {
  const g = e.gate;
  if (!g || !e.planDigest || !g.checksDigest) return undefined;
  return buildStatement({
    plan: e.plan, planDigest: e.planDigest, run: e.runWorkflowId, gate: g.id, decision: 'approve', comment: '', checksDigest: g.checksDigest, time: e.at,
    ...(g.round !== undefined ? { round: g.round, rework: [] } : {}),
  });
}

export function messageText(e: NotifyEventData, ctx: MessageContext): string {
  const lines = [`Sparky: ${headline(e)}`];
  if (e.question) lines.push('', 'Answer with:', ...answerCommands(e, ctx).map((c) => `  ${c}`));
  else if (e.event === 'attention') lines.push('', e.waitingFor ?? e.error ?? 'a person must act (sparky status shows what)');
  if (e.event === 'waiting' || e.event === 'escalated') {
    lines.push('', 'Decide with:', ...decideCommands(e, ctx).map((c) => `  ${c}`));
    const statement = statementToSign(e);
    if (statement && (e.gate?.signedApprovers?.length ?? 0) > 0) {
      lines.push('', `Signed approvers (${e.gate!.signedApprovers!.join(', ')}) sign this statement (or run \`npx sparky statement ${e.runWorkflowId} ${e.gate!.id} --decision approve\` for a fresh one):`,
        '```', statement.trimEnd(), '```',
        `  ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519 statement.txt   # then send signedAt "${e.at}" and the signature`);
    }
  }
  lines.push('', `Web UI: ${webUiLink(ctx, e.runWorkflowId) ?? `${ctx.uiNote ?? 'unknown'} (on the worker)`}`);
  return lines.join('\n');
}

/** The request body: `{text}` for Slack-compatible webhooks; the facts, the text and the commands for JSON. */
export function messageBody(format: 'json' | 'slack', e: NotifyEventData, ctx: MessageContext): Record<string, unknown> {
  const text = messageText(e, ctx);
  if (format === 'slack') return { text };
  return {
    ...e, text, webUi: webUiLink(ctx, e.runWorkflowId),
    ...(e.gate && (e.event === 'waiting' || e.event === 'escalated') ? { commands: decideCommands(e, ctx), statement: statementToSign(e) } : {}),
    ...(e.question ? { commands: answerCommands(e, ctx) } : {}),
  };
}
