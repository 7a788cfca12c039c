// The workflow types workers register (the names are contracts: docs/orchestration.md).
export { metaOrchestrator } from './meta-orchestrator.ts';
export { domainOrchestrator } from './domain-orchestrator.ts';
