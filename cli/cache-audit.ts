// What a run took from the cache, read from its history alone (the progress reports its domain
// children sent): each step that did not run in this run, with the key and the run, step, time and
// host its result came from. `sparky attest` puts it into the attestation, so whoever relies on the
// gate decisions also sees which work was not redone in the run that was approved.
import type { CacheSource } from '../common/cache-types.ts';
import type { DomainProgress } from '../workflows/progress.ts';
import { attributes, payloadsOf, type JsonEvent } from './history-json.ts';

export interface CachedStep { step: string; key: string; from: CacheSource }

export function cachedStepsOf(events: JsonEvent[]): CachedStep[] {
  const last = new Map<string, CachedStep | undefined>();
  for (const event of events) {
    if (event.eventType !== 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' && event.eventType !== 'WorkflowExecutionSignaled') continue;
    const a = attributes(event);
    if (a.signalName !== 'domainProgress') continue;
    const [msg] = payloadsOf(a.input) as [DomainProgress | undefined];
    for (const ev of msg?.events ?? []) {
      if (ev.type !== 'step') continue;
      const id = `${ev.workstreamId}/${ev.step.id}`;
      const hit = ev.step.state === 'cached' ? ev.step.cache?.hit : undefined;
      // The step's last report counts: a step reworked after a hit ran in the end.
      if (ev.step.state === 'pending' || ev.step.state === 'running') continue;
      last.set(id, hit && ev.step.cache ? { step: id, key: ev.step.cache.key, from: { run: hit.run, workstream: hit.workstream, step: hit.step, at: hit.at, ...(hit.host && { host: hit.host }) } } : undefined);
    }
  }
  return [...last.values()].filter((x): x is CachedStep => x !== undefined);
}
