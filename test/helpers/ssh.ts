// Real OpenSSH keys and signatures for the signed-decision tests: `ssh-keygen -t ed25519` and
// `ssh-keygen -Y sign -n <namespace>`, exactly what people run.
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TestKey { name: string; privateKey: string; publicKey: string; line: string; fingerprint: string }

export async function keyDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'sparky-keys-'));
}

export async function makeKey(dir: string, name: string): Promise<TestKey> {
  const privateKey = path.join(dir, `id_${name}`);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@sparky-test`, '-f', privateKey]);
  const line = (await readFile(`${privateKey}.pub`, 'utf8')).trim();
  const listed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${privateKey}.pub`])).stdout;
  return { name, privateKey, publicKey: `${privateKey}.pub`, line, fingerprint: listed.split(' ')[1] };
}

/** `ssh-keygen -Y sign` over `message` (stdin), the armored signature it prints. */
export async function sshSign(message: string, key: TestKey, namespace = 'sparky-gate', extra: string[] = []): Promise<string> {
  const { stdout } = await execa('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', key.privateKey, ...extra], { input: message, stripFinalNewline: false });
  return stdout;
}
