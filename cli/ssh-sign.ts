// Signing with the tools people already have: `ssh-keygen -Y sign -n sparky-gate -f KEY`, the
// statement on stdin, the armored SSHSIG on stdout. Given a public key (`…/id_ed25519.pub`),
// ssh-keygen signs through ssh-agent when the agent holds that key, so private keys never leave it.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { SPARKY_NAMESPACE } from '../common/sshsig.ts';
import { CliError } from './connection.ts';

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? `${os.homedir()}${p.slice(1)}` : p;
}

export async function sshSign(text: string, keyArg: string): Promise<string> {
  const key = expandHome(keyArg);
  if (!existsSync(key)) throw new CliError(`--key ${keyArg}: no such file (an ed25519 private key, or its .pub when ssh-agent holds the key)`, 2);
  const viaAgent = key.endsWith('.pub');
  if (viaAgent && !process.env.SSH_AUTH_SOCK) throw new CliError(`--key ${keyArg} is a public key: signing with it needs ssh-agent (SSH_AUTH_SOCK is not set)`, 2);
  const result = await execa('ssh-keygen', ['-Y', 'sign', '-n', SPARKY_NAMESPACE, '-f', key], {
    input: text, reject: false, stripFinalNewline: false, env: { SSH_ASKPASS_REQUIRE: 'never' },
  }).catch((err: Error) => { throw new CliError(`cannot run ssh-keygen (OpenSSH 8.1 or newer is needed to sign): ${err.message}`, 2); });
  if (result.exitCode !== 0 || !result.stdout.includes('BEGIN SSH SIGNATURE')) {
    const why = result.stderr.trim().split('\n').pop() ?? `exit ${result.exitCode}`;
    throw new CliError(`ssh-keygen could not sign with ${keyArg}${viaAgent ? ' (does ssh-agent hold this key? ssh-add -l)' : ''}: ${why}`, 2);
  }
  return result.stdout;
}
