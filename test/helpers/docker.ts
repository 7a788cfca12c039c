// A real Docker engine for the tests. If `docker info` answers, that engine is used. Otherwise, where
// the docker.io package is installed and we are root, one dockerd is started the way docs/runners.md
// ("Testing against the real engine") describes (vfs storage, no iptables, no bridge) and left running
// for later tests and files; a lock keeps concurrent test files from starting two. Images are built
// FROM scratch with busybox-static: nothing is ever pulled. Where no engine can run, tests skip with the reason this returns.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, copyFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeDocker } from '../../activities/docker-engine.ts';
import { DATA_DIR } from '../../host/paths.ts';
import { sleep } from './wait.ts';

export const BUSYBOX_IMAGE = 'sparky-busybox:latest';
const LOCK = path.join(os.tmpdir(), 'sparky-dockerd.lock');

export type DockerAvailability = { ok: true; serverVersion: string } | { ok: false; reason: string };

const onPath = async (cmd: string) => (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0;

async function waitForEngine(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await probeDocker(3_000)).ok) return true;
    await sleep(500);
  }
  return false;
}

function takeLock(): boolean {
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    // A lock older than two minutes belongs to a test run that died while starting dockerd.
    if (Date.now() - statSync(LOCK).mtimeMs > 120_000) { rmSync(LOCK, { recursive: true, force: true }); return takeLock(); }
    return false;
  }
}

let availability: Promise<DockerAvailability> | undefined;

/** An engine that answers, starting dockerd if we can; cached per process. */
export function ensureDocker(): Promise<DockerAvailability> {
  availability ??= (async (): Promise<DockerAvailability> => {
    const first = await probeDocker(5_000);
    if (first.ok) return { ok: true, serverVersion: first.serverVersion };
    if (process.env.DOCKER_HOST) return { ok: false, reason: `${first.reason}; DOCKER_HOST is set, so no local dockerd is started` };
    if (!(await onPath('docker'))) return { ok: false, reason: 'the docker CLI is not installed (apt-get install docker.io)' };
    if (!(await onPath('dockerd'))) return { ok: false, reason: 'dockerd is not installed (apt-get install docker.io) and no engine answers' };
    if (process.getuid?.() !== 0) return { ok: false, reason: `${first.reason}; dockerd needs root to start and the tests do not run as root` };
    if (takeLock()) {
      try {
        if (!(await probeDocker(3_000)).ok) {
          const logDir = path.join(DATA_DIR, 'dockerd');
          mkdirSync(logDir, { recursive: true });
          const log = openSync(path.join(logDir, 'dockerd.log'), 'a');
          // Detached and unreferenced: the daemon outlives this test process for the next files.
          const daemon = spawn('dockerd', ['--storage-driver=vfs', '--iptables=false', '--bridge=none'], { detached: true, stdio: ['ignore', log, log] });
          daemon.unref();
          if (!(await waitForEngine(60_000))) {
            return { ok: false, reason: `dockerd was started but no engine answered within 60s (see ${path.join(logDir, 'dockerd.log')})` };
          }
        }
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
    } else if (!(await waitForEngine(60_000))) {
      return { ok: false, reason: 'another test process is starting dockerd, and no engine answered within 60s' };
    }
    const probe = await probeDocker(5_000);
    return probe.ok ? { ok: true, serverVersion: probe.serverVersion } : { ok: false, reason: probe.reason };
  })();
  return availability;
}

/**
 * `sparky-busybox:latest`: FROM scratch, /bin/busybox from Debian's busybox-static, every applet
 * linked by `busybox --install -s /bin`. Built once per engine; returns undefined with no busybox.
 */
export async function ensureBusyboxImage(): Promise<{ ok: true; image: string } | { ok: false; reason: string }> {
  const inspect = await execa('docker', ['image', 'inspect', BUSYBOX_IMAGE], { reject: false });
  if (inspect.exitCode === 0) return { ok: true, image: BUSYBOX_IMAGE };
  if (!existsSync('/bin/busybox')) return { ok: false, reason: '/bin/busybox is missing (apt-get install busybox-static)' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-busybox-'));
  try {
    copyFileSync('/bin/busybox', path.join(dir, 'busybox'));
    writeFileSync(path.join(dir, 'Dockerfile'), [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'CMD ["/bin/sh"]',
      '',
    ].join('\n'));
    const build = await execa('docker', ['build', '-t', BUSYBOX_IMAGE, dir], { reject: false, all: true });
    if (build.exitCode !== 0) return { ok: false, reason: `building ${BUSYBOX_IMAGE} failed: ${String(build.all).slice(-2000)}` };
    return { ok: true, image: BUSYBOX_IMAGE };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Docker plus the busybox base image, or the reason a test must skip. */
export async function dockerForTests(): Promise<{ ok: true; image: string } | { ok: false; reason: string }> {
  const engine = await ensureDocker();
  if (!engine.ok) return engine;
  return ensureBusyboxImage();
}
