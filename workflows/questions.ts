// Agents' questions in the run (docs/agents.md "Questions"): when a workstream enters attention with
// cause `question`, the `notify` webhooks hear it (whom it is for, how to answer); when its step has
// `ask.timeout`, a timer escalates it like a gate's approval: the attention shows it escalated (and to
// whom: `ask.escalate`, who may then answer too) and the webhooks get an `escalated` event. An answer
// (workflows/decisions/answer.ts) ends the wait; a timer that fires after it changes nothing.
import { sleep } from '@temporalio/workflow';
import type { Notifier } from './notifier.ts';
import type { StatusIndex } from './status-index.ts';
import { now, type WorkstreamStatus } from './status.ts';

export class Questions {
  private readonly seen = new Set<string>();
  private fresh: { wsId: string; key: string }[] = [];

  constructor(private readonly index: StatusIndex, private readonly notifier: Notifier, private readonly onChange: () => void) {}

  /** A workstream entered attention: true for a new question (announced by `announce`, after the status is refreshed). */
  asked(ws: WorkstreamStatus): boolean {
    const a = ws.attention;
    if (a?.cause !== 'question' || !a.question) return false;
    const key = `${ws.id}/${a.step} ${a.question.askedAt}`;
    if (this.seen.has(key)) return false; // reported again (a child's continue-as-new): announced already
    this.seen.add(key);
    this.fresh.push({ wsId: ws.id, key });
    return true;
  }

  /** Tells the webhooks about the new questions (with the run's current words) and times their escalation. */
  announce(): void {
    const fresh = this.fresh;
    this.fresh = [];
    for (const { wsId, key } of fresh) {
      const ws = this.index.workstream(wsId);
      const a = ws?.attention;
      if (!ws || !a?.question) continue;
      const q = a.question;
      this.notifier.question('attention', { step: `${ws.id}/${a.step}`, text: q.text, to: q.to, ...(q.deadline ? { deadline: q.deadline } : {}) });
      if (q.deadline) void this.escalateAt(ws.id, key, Date.parse(q.deadline));
    }
  }

  private async escalateAt(wsId: string, key: string, at: number): Promise<void> {
    await sleep(Math.max(1, at - Date.now())); // workflow time
    const ws = this.index.workstream(wsId);
    const a = ws?.attention;
    if (!ws || ws.state !== 'attention' || a?.cause !== 'question' || !a.question || `${ws.id}/${a.step} ${a.question.askedAt}` !== key) return;
    const to = a.question.escalate ?? [];
    a.question.escalated = { at: now(), to };
    this.notifier.question('escalated', { step: `${ws.id}/${a.step}`, text: a.question.text, to: a.question.to, escalatedTo: to });
    this.onChange();
  }
}
