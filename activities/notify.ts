// The `notify` activity: tells the plan's webhooks that a gate waits, escalated or was decided, that
// a run needs attention, or that it ended. URLs and header values that come from the environment are
// resolved here, on the worker, so they never enter workflow history; every error is redacted of
// them. Each webhook gets a few tries with backoff inside this one attempt; a webhook that stays
// down is reported in the result, never thrown, so a dead receiver cannot fail or block a run.
import type { NotifyInput, NotifyResult } from '../common/activity-types.ts';
import type { Webhook } from '../plan/schema.ts';
import { currentActivity } from './context.ts';
import { messageBody, type MessageContext } from './notify-message.ts';
import { redactor } from './secrets.ts';
import { locateWebUi, type WebUiLocation } from '../host/web-ui.ts';

export interface NotifyDeps {
  env?: NodeJS.ProcessEnv;
  /** Waits between tries (default 0.5s, 2s: three tries). */
  retryDelaysMs?: number[];
  /** One request's limit (default 5s). */
  requestTimeoutMs?: number;
}

/** A webhook named without its secret: `$HOOK_URL`, or the literal URL's origin. */
export function webhookLabel(hook: Webhook): string {
  if (hook.urlFromEnv) return `$${hook.urlFromEnv}`;
  try { return new URL(hook.url ?? '').origin; } catch { return '(bad url)'; }
}

export function createNotifier(deps: NotifyDeps = {}) {
  const env = deps.env ?? process.env;
  const delays = deps.retryDelaysMs ?? [500, 2000];
  const timeoutMs = deps.requestTimeoutMs ?? 5000;
  let webUi: WebUiLocation | undefined; // found once it answers (host/web-ui.ts); looked for again until then

  async function send(hook: Webhook, input: NotifyInput, ctx: MessageContext): Promise<{ ok: true } | { ok: false; error: string; attempts: number }> {
    const url = hook.urlFromEnv ? env[hook.urlFromEnv] : hook.url;
    if (!url) return { ok: false, error: `environment variable ${hook.urlFromEnv} is not set on this worker`, attempts: 0 };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'sparky-notify' };
    const secrets = hook.urlFromEnv ? [url] : [];
    for (const [name, ref] of Object.entries(hook.headers ?? {})) {
      const value = env[ref.fromEnv];
      if (!value) return { ok: false, error: `header ${name}: environment variable ${ref.fromEnv} is not set on this worker`, attempts: 0 };
      headers[name] = value;
      secrets.push(value);
    }
    const redact = redactor(secrets);
    const body = JSON.stringify(messageBody(hook.format ?? 'json', input.event, ctx));
    let error = '';
    for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
      currentActivity()?.heartbeat({ webhook: webhookLabel(hook), attempt });
      try {
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return { ok: true };
        error = `HTTP ${res.status} ${res.statusText}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return { ok: false, error: redact(error), attempts: attempt };
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        error = cause?.code ?? cause?.message ?? (err as Error).message;
      }
      if (attempt <= delays.length) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    }
    return { ok: false, error: redact(error), attempts: delays.length + 1 };
  }

  return async function notify(input: NotifyInput): Promise<NotifyResult> {
    const info = currentActivity()?.info;
    if (!webUi?.url) webUi = await locateWebUi(env);
    const ctx: MessageContext = { uiUrl: webUi.url, uiNote: webUi.note, namespace: info?.workflowNamespace ?? env.TEMPORAL_NAMESPACE ?? 'default' };
    const hooks = (input.webhooks ?? []).filter((h) => !h.events || h.events.includes(input.event.event));
    const results = await Promise.all(hooks.map(async (hook) => ({ hook, result: await send(hook, input, ctx) })));
    return {
      sent: results.filter((r) => r.result.ok).length,
      failed: results.flatMap(({ hook, result }) => (result.ok ? [] : [{ webhook: webhookLabel(hook), error: result.error, attempts: result.attempts }])),
    };
  };
}
