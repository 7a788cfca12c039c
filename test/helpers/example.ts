// The flagship example in a folder of its own: a copy of examples/ (without earlier outputs) next to a
// link to node_modules, so a test can run it with its own ports and data, edit its copy of the plan
// (`edit` takes the YAML text and returns the new one), and collide with nothing.
import { cp, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.ts';

export async function exampleCopy(prefix: string, edit: (yaml: string) => string = (y) => y): Promise<{ root: string; planFile: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  await cp(path.join(PROJECT_ROOT, 'examples'), path.join(root, 'examples'), { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  const planFile = path.join(root, 'examples', 'dgx-pixels.plan.yaml');
  await writeFile(planFile, edit(await readFile(planFile, 'utf8')));
  return { root, planFile };
}
