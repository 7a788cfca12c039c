// Custom search attributes Sparky keeps current on every run, so the Web UI and
// `temporal workflow list --query` can find runs by plan, phase, waiting gate and state.
// Every dev server Sparky starts (the embedded stack and the test harness) registers them.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SparkyPlan = defineSearchAttributeKey('SparkyPlan', SearchAttributeType.KEYWORD);
export const SparkyPhase = defineSearchAttributeKey('SparkyPhase', SearchAttributeType.KEYWORD);
/** The gate that waits for approval, or '' when none does. */
export const SparkyGate = defineSearchAttributeKey('SparkyGate', SearchAttributeType.KEYWORD);
/** running | paused | waiting | completed | failed | compensating | cancelled */
export const SparkyState = defineSearchAttributeKey('SparkyState', SearchAttributeType.KEYWORD);

export const SPARKY_SEARCH_ATTRIBUTES = [SparkyPlan, SparkyPhase, SparkyGate, SparkyState];

/** `--search-attribute Name=Keyword` flags for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return SPARKY_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
