// Gate check `command`: a command (argv, no shell) exits 0; its output is logged per check.
import { z } from 'zod';
import { arr } from '../semantic-rules.ts';
import { CheckCommon, defineCheckKind } from './kind.ts';

export const CommandCheck = z.strictObject({ ...CheckCommon, kind: z.literal('command'), run: z.array(z.string()).min(1, 'argv must not be empty'), cwd: z.string().optional() });
export type CommandCheck = z.infer<typeof CommandCheck>;

export const commandCheckKind = defineCheckKind<CommandCheck>({
  kind: 'command', schema: CommandCheck, docs: 'plan-reference.md#gates',
  rules: (check, at, _ctx, err) => {
    const run = arr(check.run);
    if (run.length > 0 && typeof run[0] === 'string' && run[0].trim() === '') err([...at, 'run', 0], 'argv[0] (the program) must not be empty');
  },
  resolvePaths: (check, base, under) => ({ ...check, cwd: under(base, check.cwd) ?? base }),
});
