// Custom search attributes Sparky keeps current on every run, so the Web UI and
// `temporal workflow list --query` can find runs by plan, phase, waiting gate, state, and the gates
// a run went through. Every server Sparky starts or sets up registers them, with these types: the
// embedded stack and the test harness (devServerSearchAttributeArgs), scripts/cluster and
// docker-compose.yml's admin-tools (test/deploy/compose.test.ts keeps that list equal to this one).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SparkyPlan = defineSearchAttributeKey('SparkyPlan', SearchAttributeType.KEYWORD);
export const SparkyPhase = defineSearchAttributeKey('SparkyPhase', SearchAttributeType.KEYWORD);
/** The gate that waits for approval, or '' when none does. */
export const SparkyGate = defineSearchAttributeKey('SparkyGate', SearchAttributeType.KEYWORD);
/** running | paused | waiting | attention | compensating | completed | failed | cancelled | aborted */
export const SparkyState = defineSearchAttributeKey('SparkyState', SearchAttributeType.KEYWORD);
/**
 * Every gate the run has passed (approved), in the order passed: `SparkyGatesPassed = 'gate-2'` finds
 * the runs that went through gate-2, long after it stopped waiting there (SparkyGate says only where a
 * run waits now). Set from the first approval on, by runs started on a build that has it.
 */
export const SparkyGatesPassed = defineSearchAttributeKey('SparkyGatesPassed', SearchAttributeType.KEYWORD_LIST);

type SparkyKey = typeof SparkyPlan | typeof SparkyGatesPassed;

export const SPARKY_SEARCH_ATTRIBUTES: SparkyKey[] = [SparkyPlan, SparkyPhase, SparkyGate, SparkyState, SparkyGatesPassed];

/** The type as `temporal operator search-attribute create --type` and `start-dev --search-attribute` spell it. */
export function cliTypeName(key: SparkyKey): 'Keyword' | 'KeywordList' {
  return key.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword';
}

/** `NAME=Type` for each attribute (scripts/cluster and docker-compose.yml register these). */
export function searchAttributeSpecs(): string[] {
  return SPARKY_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${cliTypeName(key)}`);
}

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return searchAttributeSpecs().flatMap((spec) => ['--search-attribute', spec]);
}
