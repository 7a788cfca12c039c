// A reader that stops early (`sparky status last | head -1`) closes the pipe under us: every write
// after that fails with EPIPE. That is no error of the command: it ends quietly, with the exit code
// it already had (0 if none), for every command at once (cli/sparky.ts installs it before parsing).
export function isClosedPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** Exits now, with the command's exit code so far: nothing more can be said to a closed pipe. */
export function endQuietly(): never {
  const code = Number(process.exitCode ?? 0);
  process.exit(Number.isInteger(code) ? code : 0);
}

/** EPIPE on stdout or stderr ends the process quietly; any other stream error is thrown as before. */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (isClosedPipe(err)) endQuietly();
      throw err;
    });
  }
}
