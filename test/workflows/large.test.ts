// Large plans stay under Temporal's history limits: domain children continue-as-new after
// `continueAsNewAfter` workstreams, carrying what is done, while the parent's status stays whole.
// A generated plan of SPARKY_LARGE_N (default 2,000) workstreams of real trivial shell steps (`true`),
// in 4 domains, with dependencies inside and across domains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack } from './helpers.ts';
import type { RunStatus } from '../../workflows/status.ts';

const N = Number(process.env.SPARKY_LARGE_N ?? 2000);
const DOMAINS = 4;
const CAN_AFTER = 250;

const stack = useStack();

export function largePlan(n: number, domains: number) {
  const per = Math.ceil(n / domains);
  return {
    name: `large-${n}`,
    defaults: { maxParallel: 12, retry: { maximumAttempts: 3, initialInterval: '200ms' } },
    phases: [{
      id: 'p1',
      domains: Array.from({ length: domains }, (_, d) => ({
        id: `d${d}`,
        workstreams: Array.from({ length: Math.min(per, n - d * per) }, (_, i) => {
          const id = `W${d}-${i}`;
          // A chain every 10 inside the domain, and every 100th waits for the same index in the previous domain.
          const dependsOn = [...(i % 10 ? [`W${d}-${i - 1}`] : []), ...(d > 0 && i % 100 === 0 ? [`W${d - 1}-${i}`] : [])];
          return { id, ...(dependsOn.length ? { dependsOn } : {}), steps: [{ id: 's', kind: 'shell', run: ['true'] }] };
        }),
      })),
    }],
  };
}

test(`a ${N}-workstream plan completes; children continue-as-new with their state intact`, { timeout: 900_000 }, async () => {
  const started = Date.now();
  const handle = await stack.env.client.workflow.start('metaOrchestrator', {
    taskQueue: stack.taskQueue, workflowId: `sparky-large-${N}`,
    args: [{ plan: largePlan(N, DOMAINS), options: { cpuTaskQueue: stack.taskQueue, continueAsNewAfter: CAN_AFTER } }],
  });
  const result = await handle.result();
  const seconds = (Date.now() - started) / 1000;
  console.log(`# ${N} workstreams in ${seconds.toFixed(1)}s`);
  assert.equal(result.workstreams, N);
  const s = await handle.query<RunStatus>('status');
  assert.equal(s.counts.finishedWorkstreams, N);
  const all = s.phases[0].domains.flatMap((d) => d.workstreams);
  assert.equal(all.length, N);
  assert.ok(all.every((w) => w.state === 'succeeded' && w.steps[0].state === 'succeeded'), 'every workstream succeeded in the status');
  // Dependency order held across continue-as-new boundaries and domains.
  const finished = new Map(all.map((w) => [w.id, Date.parse(w.finishedAt!)]));
  for (const w of all) for (const dep of w.dependsOn) assert.ok(finished.get(dep)! <= Date.parse(w.startedAt!), `${w.id} started before ${dep} finished`);
  // Each child continued-as-new (runs > 1) and its history stayed far below the 50K-event limit.
  for (const d of s.phases[0].domains) {
    assert.ok(d.runs >= Math.ceil(N / DOMAINS / CAN_AFTER), `domain ${d.id} ran ${d.runs} time(s)`);
    const child = await stack.env.client.workflow.getHandle(d.workflowId).describe();
    assert.equal(child.status.name, 'COMPLETED');
    assert.ok(child.historyLength < 10_000, `child ${d.id} last run: ${child.historyLength} events`);
  }
  const meta = await handle.describe();
  assert.ok(meta.historyLength < 40_000, `meta history: ${meta.historyLength} events`);
  console.log(`# meta history ${meta.historyLength} events, ${s.phases[0].domains.map((d) => `${d.id}: ${d.runs} runs`).join(', ')}`);
});
