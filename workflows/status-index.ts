// Applies domain children's progress reports to the run's status, and keeps what later steps, gate
// checks and compensations need: every finished step's outputs and the saga. Lookups go through
// maps so a 2,000-workstream plan costs the same per event as a small one.
import type { DomainProgress } from './progress.ts';
import type { Saga } from './saga.ts';
import { workstreamKey } from '../plan/cache-key.ts';
import { now, type DomainStatus, type RunStatus, type WorkstreamStatus } from './status.ts';

export class StatusIndex {
  private readonly domains = new Map<string, DomainStatus>();
  private readonly workstreams = new Map<string, WorkstreamStatus>();
  /** Outputs of finished steps, keyed `<workstream>.<step>` (the substitution contract). */
  readonly outputs: Record<string, Record<string, unknown>> = {};
  /** The same outputs grouped per workstream, for relays and child inputs. */
  readonly byWorkstream = new Map<string, Record<string, Record<string, unknown>>>();
  /** Plans with cached steps: every finished step's fingerprint (`WS.step`) and workstream's (`ws:WS`), for later keys. */
  readonly fingerprints: Record<string, string> = {};

  constructor(private readonly status: RunStatus, private readonly saga: Saga) {
    this.rebuild();
  }

  /** (Re)indexes the status: at the start, and after a plan revision replaced phases not yet run. */
  rebuild(): void {
    this.domains.clear();
    this.workstreams.clear();
    for (const phase of this.status.phases) {
      for (const d of phase.domains) {
        this.domains.set(`${phase.id}/${d.id}`, d);
        for (const ws of d.workstreams) this.workstreams.set(ws.id, ws);
      }
    }
  }

  /** The run's status this index keeps. */
  get run(): RunStatus {
    return this.status;
  }

  workstream(id: string): WorkstreamStatus | undefined {
    return this.workstreams.get(id);
  }

  /** Outputs of a reopened workstream are gone with its undone steps: later steps must not see stale values. */
  forgetOutputs(workstreamId: string): void {
    for (const key of Object.keys(this.byWorkstream.get(workstreamId) ?? {})) delete this.outputs[key];
    this.byWorkstream.delete(workstreamId);
    for (const key of Object.keys(this.fingerprints)) {
      if (key.startsWith(`${workstreamId}.`) || key === workstreamKey(workstreamId)) delete this.fingerprints[key];
    }
  }

  domain(phaseId: string, domainId: string): DomainStatus | undefined {
    return this.domains.get(`${phaseId}/${domainId}`);
  }

  /** Applies one report; calls `succeeded` for each workstream that just finished successfully. */
  apply(msg: DomainProgress, succeeded: (workstreamId: string) => void, attended?: (ws: WorkstreamStatus) => void): void {
    const domain = this.domain(msg.phaseId, msg.domainId);
    if (!domain) return;
    for (const ev of msg.events) {
      if (ev.type === 'domain') {
        domain.runs = Math.max(domain.runs, ev.runs);
        if (domain.state === 'pending') { domain.state = 'running'; domain.startedAt ??= now(); }
        continue;
      }
      const ws = this.workstreams.get(ev.workstreamId);
      if (!ws) continue;
      if (ev.type === 'workstream') {
        if (ws.state === 'succeeded') continue; // delivered twice: the first one counted
        ws.state = ev.state;
        ws.attention = ev.state === 'attention' ? ev.attention : undefined;
        if (ev.host) ws.host = ev.host;
        if (ev.state === 'attention' && ev.attention) attended?.(ws);
        if (ev.state === 'running') { ws.startedAt ??= ev.at; ws.error = undefined; ws.finishedAt = undefined; }
        else if (ev.state === 'attention') ws.error = ev.error ?? ev.attention?.reason;
        else { ws.finishedAt = ev.at; ws.error = ev.error; }
        if (ev.fingerprint) this.fingerprints[workstreamKey(ws.id)] = ev.fingerprint;
        if (ev.state === 'succeeded') { this.status.counts.finishedWorkstreams += 1; succeeded(ws.id); }
        continue;
      }
      const i = ws.steps.findIndex((s) => s.id === ev.step.id);
      if (i >= 0) ws.steps[i] = ev.step;
      if (ev.outputs) {
        this.outputs[`${ws.id}.${ev.step.id}`] = ev.outputs;
        const mine = this.byWorkstream.get(ws.id) ?? {};
        mine[`${ws.id}.${ev.step.id}`] = ev.outputs;
        this.byWorkstream.set(ws.id, mine);
      }
      if (ev.saga) this.saga.push(ev.saga);
      if (ev.fingerprint) this.fingerprints[`${ws.id}.${ev.step.id}`] = ev.fingerprint;
    }
  }
}
