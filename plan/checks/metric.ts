// Gate check `metric`: an output of a finished step (`<workstream>.<step>.<output key>`) against thresholds.
import { z } from 'zod';
import { CheckCommon, defineCheckKind } from './kind.ts';

export const MetricCheck = z.strictObject({
  ...CheckCommon, kind: z.literal('metric'),
  /** `<workstream>.<step>.<output key>` (dotted path allowed after the step). */
  metric: z.string().min(1),
  atLeast: z.number().optional(), atMost: z.number().optional(), equals: z.unknown().optional(),
});
export type MetricCheck = z.infer<typeof MetricCheck>;

export const metricCheckKind = defineCheckKind<MetricCheck>({
  kind: 'metric', schema: MetricCheck, docs: 'plan-reference.md#gates',
  rules: (check, at, ctx, err) => {
    if (typeof check.metric !== 'string') return;
    const parts = check.metric.split('.');
    if (parts.length < 3 || parts.some((x) => x === '')) { err([...at, 'metric'], `metric "${check.metric}" must be <workstream>.<step>.<output key>`); return; }
    const problem = ctx.visible(parts[0], parts[1]);
    if (problem) err([...at, 'metric'], `metric "${check.metric}": ${problem}`);
  },
  resolvePaths: (check) => check,
});
