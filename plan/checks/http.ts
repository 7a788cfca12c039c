// Gate check `http`: a GET answers 2xx (or the status asked for).
import { z } from 'zod';
import { CheckCommon, defineCheckKind } from './kind.ts';

export const HttpCheck = z.strictObject({ ...CheckCommon, kind: z.literal('http'), url: z.string().url(), expectStatus: z.number().int().optional() });
export type HttpCheck = z.infer<typeof HttpCheck>;

export const httpCheckKind = defineCheckKind<HttpCheck>({
  kind: 'http', schema: HttpCheck, docs: 'plan-reference.md#gates',
  resolvePaths: (check) => check,
});
