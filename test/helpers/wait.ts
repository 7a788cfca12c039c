// Waiting in tests, one definition each: `sleep`, `eventually` (poll a value until a check holds) and
// `waitFor` (poll until a probe returns something truthy). Real time: the dev server skips none.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until `check` holds on its value; errors thrown by `fn` count as "not yet". */
export async function eventually<T>(what: string, fn: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (check(last)) return last;
    } catch (err) { lastError = err; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)} ${lastError ? `last error: ${String(lastError)}` : ''}`);
}

/** Polls `probe` until it returns a truthy value, and returns that; a throw from `probe` ends the wait. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
