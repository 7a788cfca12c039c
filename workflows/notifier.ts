// Notifications from the run: the `notify` activity told about a gate waiting, escalated or decided,
// a run that needs attention, and its end. Gate events are fire-and-forget (the run never waits for
// a webhook); the end is awaited so it is sent before the run closes (the activity bounds its own
// tries). Results land in the status (`notifications`): a dead webhook shows there, and nowhere else.
import { proxyActivities } from '@temporalio/workflow';
import type { NotifyEventData, NotifyResult, SparkyActivities } from '../common/activity-types.ts';
import type { Plan, Webhook } from '../plan/schema.ts';
import { now, type GateStatus, type RunStatus } from './status.ts';

export class Notifier {
  private readonly activity: SparkyActivities['notify'];

  constructor(private readonly plan: () => Plan, private readonly status: RunStatus, cpuTaskQueue: string, private readonly onChange: () => void) {
    this.activity = proxyActivities<SparkyActivities>({
      taskQueue: cpuTaskQueue,
      startToCloseTimeout: '1m',
      retry: { maximumAttempts: 1 }, // the activity retries each webhook itself and never throws for one
    }).notify;
  }

  private webhooks(event: NotifyEventData): Webhook[] {
    const gateNotify = event.gate ? this.plan().phases.find((p) => p.gate?.id === event.gate!.id)?.gate?.notify : undefined;
    const isGateEvent = event.event === 'waiting' || event.event === 'escalated' || event.event === 'decided';
    return (isGateEvent && gateNotify ? gateNotify : this.plan().notify)?.webhooks ?? [];
  }

  /** Sends, and returns the promise (already guarded: it never rejects). */
  send(event: NotifyEventData): Promise<void> {
    const webhooks = this.webhooks(event).filter((w) => !w.events || w.events.includes(event.event));
    if (webhooks.length === 0) return Promise.resolve();
    return this.activity({ webhooks, event }).then((r) => this.note(r), (err: unknown) => this.note({ sent: 0, failed: [{ webhook: '(notify)', error: String((err as Error)?.message ?? err), attempts: 1 }] }));
  }

  /** A gate event, fire-and-forget. */
  gate(event: 'waiting' | 'escalated' | 'decided', gate: GateStatus, decision?: NotifyEventData['decision']): void {
    void this.send({
      event, at: now(), runWorkflowId: this.status.runWorkflowId, plan: this.status.plan, planDigest: this.status.planDigest,
      waitingFor: this.status.waitingFor, ...(decision ? { decision } : {}),
      gate: {
        id: gate.id, state: gate.state, approvers: [...gate.approvers], required: gate.required, approvals: [...gate.approvals],
        escalated: gate.escalated, deadline: gate.deadline, checksDigest: gate.checksDigest, signedApprovers: gate.signedApprovers,
        ...(gate.round !== undefined ? { round: gate.round } : {}),
      },
    });
  }

  /** An agent's question: asked (event `attention`) or escalated (nobody answered in time), fire-and-forget. */
  question(event: 'attention' | 'escalated', question: NonNullable<NotifyEventData['question']>): void {
    void this.send({
      event, at: now(), runWorkflowId: this.status.runWorkflowId, plan: this.status.plan, planDigest: this.status.planDigest,
      state: this.status.state, waitingFor: this.status.waitingFor, question,
    });
  }

  /** A run event: `finished` is awaited by the caller so it leaves before the run closes. */
  run(event: 'attention' | 'finished'): Promise<void> {
    return this.send({
      event, at: now(), runWorkflowId: this.status.runWorkflowId, plan: this.status.plan, planDigest: this.status.planDigest,
      state: this.status.state, waitingFor: this.status.waitingFor, ...(this.status.error ? { error: this.status.error } : {}),
    });
  }

  private note(result: NotifyResult): void {
    const n = (this.status.notifications ??= { sent: 0, failed: 0 });
    n.sent += result.sent;
    n.failed += result.failed.length;
    if (result.failed.length > 0) n.lastError = result.failed.map((f) => `${f.webhook}: ${f.error}`).join('; ');
    this.onChange();
  }
}
