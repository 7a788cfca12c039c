// The Sparky board's page: plain browser JavaScript, no framework, nothing fetched from elsewhere.
// Routes: #/ (runs by plan and state), #/run/<id> (graph, schedule, waiting list, gates, steps,
// audit), #/passkeys (register a passkey: prints the plan line). Live through server-sent events
// (/api/events); actions POST JSON with the X-Sparky-Board header (board/server.ts refuses anything
// else) and show the workflow's refusal word for word. Gate decisions by an approver with a passkey
// are signed here: the page shows the exact statement, then navigator.credentials.get signs its hash.

const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $('#main');
let stream;
let current = { route: '', run: undefined, detail: undefined };

/** Builds an element: h('div#id.cls', {attr}, children…). Text is always text (never HTML). */
function h(tag, attrs = {}, ...children) {
  const [, name, rest] = /^([a-z0-9]+)(.*)$/.exec(tag);
  const el = document.createElement(name);
  const id = /#([\w-]+)/.exec(rest);
  if (id) el.id = id[1];
  const classes = [...rest.matchAll(/\.([\w-]+)/g)].map((m) => m[1]);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const badge = (state) => h(`span.badge.s-${state}`, {}, state);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const ago = (iso) => {
  if (!iso) return '';
  const sec = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return sec < 90 ? `${Math.round(sec)}s ago` : sec < 5400 ? `${Math.round(sec / 60)}m ago` : sec < 129600 ? `${Math.round(sec / 3600)}h ago` : `${Math.round(sec / 86400)}d ago`;
};
const dur = (ms) => (ms === undefined ? '' : ms < 120000 ? `${Math.round(ms / 1000)}s` : ms < 7200000 ? `${Math.round(ms / 60000)}m` : ms < 172800000 ? `${(ms / 3600000).toFixed(1)}h` : `${(ms / 86400000).toFixed(1)}d`);
const webUiLink = (url, text = 'Temporal Web UI ↗') => (url ? h('a.webui', { href: url, target: '_blank', rel: 'noopener' }, text) : undefined);

function me() { return $('#me').value.trim(); }
function banner(text, kind = 'error') {
  const b = $('#banner');
  b.textContent = text;
  b.className = kind === 'info' ? 'info' : '';
  b.hidden = !text;
}

// ── base64url ⇄ bytes ──
const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64u = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Sparky-Board': '1' }, body: JSON.stringify(body) });
  const out = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(out.error ?? `HTTP ${res.status}`);
  return out;
}

// ── live stream ──
function listen(run) {
  stream?.close();
  const conn = $('#conn');
  conn.textContent = 'connecting…'; conn.className = 'conn';
  stream = new EventSource(run ? `/api/events?run=${encodeURIComponent(run)}` : '/api/events');
  stream.onopen = () => { conn.textContent = 'live'; conn.className = 'conn live'; };
  stream.onerror = () => { conn.textContent = 'board server unreachable — retrying'; conn.className = 'conn down'; };
  stream.addEventListener('trouble', (e) => { conn.textContent = 'Temporal unreachable — retrying'; conn.className = 'conn down'; conn.title = JSON.parse(e.data).error; });
  stream.addEventListener('runs', (e) => { conn.textContent = 'live'; conn.className = 'conn live'; if (!current.run) renderRuns(JSON.parse(e.data)); });
  stream.addEventListener('run', (e) => { conn.textContent = 'live'; conn.className = 'conn live'; const d = JSON.parse(e.data); if (current.run === d.id) renderRun(d); });
}

// ── routes ──
function route() {
  const hash = location.hash || '#/';
  current = { route: hash, run: undefined, detail: undefined };
  banner('');
  if (hash.startsWith('#/run/')) {
    current.run = decodeURIComponent(hash.slice('#/run/'.length));
    main().replaceChildren(h('p.muted', {}, `loading ${current.run}…`));
    listen(current.run);
  } else if (hash === '#/passkeys') {
    stream?.close(); $('#conn').textContent = ''; $('#conn').className = 'conn';
    renderPasskeys();
  } else {
    main().replaceChildren(h('p.muted', {}, 'loading runs…'));
    listen(undefined);
  }
}

function renderRuns(runs) {
  const byPlan = new Map();
  for (const r of runs) byPlan.set(r.plan || '(no plan)', [...(byPlan.get(r.plan || '(no plan)') ?? []), r]);
  const sections = [...byPlan].map(([plan, list]) => h('section', { 'data-plan': plan },
    h('h2', {}, `${plan} — ${list.length} run${list.length === 1 ? '' : 's'}`),
    h('table#runs', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'state'), h('th', {}, 'phase / gate'), h('th', {}, 'started'), h('th', {}, '')),
      list.map((r) => h('tr', { 'data-run': r.id },
        h('td', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.id)),
        h('td', {}, badge(r.status === 'RUNNING' ? (r.state || 'running') : r.status.toLowerCase())),
        h('td', {}, [r.phase, r.gate].filter(Boolean).join(' · ')),
        h('td', {}, when(r.startTime)),
        h('td', {}, webUiLink(r.webUi, 'Web UI ↗')))))));
  main().replaceChildren(h('h1', {}, 'Runs'), ...(runs.length ? sections : [h('p.muted', {}, 'No Sparky runs on this server yet: `npx sparky run <plan>`.')]));
}

// ── one run ──
function renderRun(d) {
  current.detail = d;
  const open = [...document.querySelectorAll('details[open]')].map((e) => e.dataset.key);
  const view = h('div', { 'data-run': d.id },
    h('h1', {}, d.id, ' ', badge(d.state)),
    h('p', {}, h('b', {}, d.plan), ` · revision ${d.revision} · started ${when(d.startedAt)}${d.startedBy ? ` by ${d.startedBy.name}${d.startedBy.fingerprint ? ` (${d.startedBy.fingerprint})` : ''}` : ''} · `,
      `${d.counts.finishedWorkstreams}/${d.counts.workstreams} workstreams done · `, webUiLink(d.webUi)),
    h('p.waitingfor', {}, d.waitingFor),
    d.spend ? h('p#spend', {}, `agent spend: $${d.spend.usd.toFixed(2)} · ${d.spend.tokens} tokens · ${d.spend.turns} turns in ${d.spend.steps} agent step${d.spend.steps === 1 ? '' : 's'}`) : undefined,
    d.error ? h('pre', {}, d.error) : undefined,
    h('h2', {}, 'Waiting for people'), waitingList(d),
    h('h2', {}, 'Graph ', h('span.muted', {}, `(critical path: ${d.criticalPath.join(' → ') || 'none'}; laid out by dagre)`)), graph(d.graph),
    h('h2', {}, 'Schedule against the estimates ', h('span.muted', {}, `(flags: no progress for ${d.thresholds.stalledAfter} = stalled, over ${d.thresholds.overrunPercent}% of the estimate = over)`)), gantt(d),
    h('h2', {}, 'Gates'), ...d.gates.map((g) => gatePanel(d, g)),
    h('h2', {}, 'Steps'), stepsTable(d),
    h('h2', {}, 'Audit'), auditTable(d));
  main().replaceChildren(view);
  // Open panels stay open across live redraws (an open log is read again: its toggle event reloads it).
  for (const key of open) { const el = document.querySelector(`details[data-key="${CSS.escape(key)}"]`); if (el) el.open = true; }
  // Each vote's verification (what sparky verify says), fetched again whenever the votes change.
  const votes = d.gates.reduce((n, g) => n + g.votes.length, 0);
  if (votes > 0 && current.verifiedVotes !== `${d.id}:${votes}`) { current.verifiedVotes = `${d.id}:${votes}`; void verify(d, true); }
}

function waitingList(d) {
  if (!d.waiting.length) return h('p.muted#waiting', {}, 'Nothing waits for a person.');
  return h('ul.waiting#waiting', {}, d.waiting.map((w) => h('li', { 'data-kind': w.kind, 'data-id': w.id },
    h('b', {}, `${w.kind === 'gate' ? 'gate ' : ''}${w.id}`), ' ', badge(w.cause), ' — ', w.what,
    h('div', {}, 'waits for ', h('span.who', {}, w.who.join(', ')), w.since ? ` since ${when(w.since)} (${ago(w.since)})` : '', ' · ', webUiLink(d.webUi, 'Web UI ↗')),
    h('div', {}, w.actions.map((a) => h('button', { type: 'button', 'data-action': a, 'data-target': w.id, onclick: () => act(d, a, w) }, a))))));
}

function graph(g) {
  const svg = s('svg', { id: 'graph', width: g.width, height: g.height, viewBox: `0 0 ${g.width} ${g.height}`, role: 'img', 'aria-label': 'the run\'s graph' });
  const order = { phase: 0, domain: 1, gate: 2, workstream: 2 };
  for (const n of [...g.nodes].sort((a, b) => order[a.kind] - order[b.kind])) {
    const x = n.x - n.width / 2; const y = n.y - n.height / 2;
    if (n.kind === 'phase' || n.kind === 'domain') {
      svg.append(s('g', { class: `cluster ${n.kind}`, 'data-id': n.id }, s('rect', { x, y, width: n.width, height: n.height }),
        s('text', { x: x + 6, y: y + 12, fill: '#546e7a' }, `${n.label} · ${n.state}`)));
    }
  }
  for (const e of g.edges) {
    svg.append(s('polyline', { class: `edge${e.critical ? ' critical' : ''}`, 'data-from': e.from, 'data-to': e.to, points: e.points.map((p) => `${p.x},${p.y}`).join(' '), 'marker-end': 'url(#arrow)' }));
  }
  for (const n of g.nodes.filter((x) => x.kind === 'workstream' || x.kind === 'gate')) {
    const x = n.x - n.width / 2; const y = n.y - n.height / 2;
    svg.append(s('g', { class: `node ${n.kind} state-${n.state}${n.critical ? ' critical' : ''}`, 'data-id': n.kind === 'gate' ? n.label : n.id, 'data-state': n.state },
      s('title', {}, `${n.label}: ${n.state}${n.critical ? ' (critical path)' : ''}`),
      s('rect', { x, y, width: n.width, height: n.height }),
      s('text', { x: x + 8, y: y + 17, 'font-weight': 700 }, n.label),
      s('text', { x: x + 8, y: y + 33 }, (n.sub ?? '').slice(0, 30))));
  }
  svg.prepend(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#90a4ae' }))));
  return h('div#graph-wrap', {}, svg);
}

function gantt(d) {
  const rows = d.gantt;
  const now = Date.now() - Date.parse(d.startedAt);
  const end = Math.max(1, ...rows.map((r) => Math.max(r.plannedStartMs + r.plannedMs.high, r.endMs ?? 0, r.startMs !== undefined ? now : 0)));
  const W = 900; const L = 170; const RH = 20;
  const x = (ms) => L + (ms / end) * (W - L - 10);
  const svg = s('svg', { id: 'gantt', width: W, height: rows.length * RH + 24, viewBox: `0 0 ${W} ${rows.length * RH + 24}` });
  rows.forEach((r, i) => {
    const y = 4 + i * RH;
    svg.append(s('g', { class: 'row', 'data-id': r.id, 'data-flags': r.flags.join(' ') },
      s('text', { x: 4, y: y + 12 }, `${r.id}${r.flags.length ? ` ⚠ ${r.flags.join(', ')}` : ''}`),
      s('rect', { class: 'bar', x: x(r.plannedStartMs), y: y + 1, width: Math.max(2, x(r.plannedStartMs + r.plannedMs.high) - x(r.plannedStartMs)), height: 6 },
        s('title', {}, `estimate ${r.estimate ?? 'none'} (planned from ${dur(r.plannedStartMs)})`)),
      r.startMs !== undefined ? s('rect', { class: `bar actual state-${r.state} ${r.flags.map((f) => `flag-${f}`).join(' ')}`, x: x(r.startMs), y: y + 8, width: Math.max(2, x(r.endMs ?? now) - x(r.startMs)), height: 8 },
        s('title', {}, `actual ${dur(r.elapsedMs)}${r.percentOfEstimate !== undefined ? ` = ${r.percentOfEstimate}% of the estimate's high end` : ''}; last progress ${when(r.lastProgress)}`)) : undefined));
  });
  svg.append(s('line', { class: 'nowline', x1: x(now), x2: x(now), y1: 0, y2: rows.length * RH + 10 }));
  svg.append(s('text', { x: 4, y: rows.length * RH + 20, fill: '#777' }, `grey: estimate (planned, gates as barriers) · coloured: actual · dashed: now · span ${dur(end)}`));
  const table = h('table#gantt-table', {}, h('tr', {}, ['workstream', 'state', 'estimate', 'actual', '% of estimate', 'steps', 'last progress', 'flags'].map((t) => h('th', {}, t))),
    rows.map((r) => h('tr', { 'data-id': r.id }, h('td', {}, r.id, r.critical ? ' ★' : ''), h('td', {}, badge(r.state)), h('td', {}, r.estimate ?? ''), h('td', {}, dur(r.elapsedMs)),
      h('td', {}, r.percentOfEstimate !== undefined ? `${r.percentOfEstimate}%` : ''), h('td', {}, `${r.progress.done}/${r.progress.total}`), h('td', {}, r.lastProgress ? ago(r.lastProgress) : ''),
      h('td', {}, r.flags.map((f) => badge(f))))));
  return h('div', {}, h('div#gantt-wrap', {}, svg), h('details', { 'data-key': 'gantt-table' }, h('summary', {}, 'as a table'), table));
}

function gatePanel(d, g) {
  const verdicts = current.verify?.run === d.id ? current.verify.report.decisions.filter((x) => x.gate === g.id) : [];
  return h('section.gate', { 'data-gate': g.id },
    h('h3', {}, `${g.id} (phase ${g.phase}) `, badge(g.state), g.round !== undefined ? h('span.muted', {}, ` round ${g.round}`) : '', ` · ${g.approvals.length}/${g.required} approvals`,
      g.preventSelfApproval ? ' · preventSelfApproval' : '', g.escalated ? ' · escalated' : '', ' · ', webUiLink(d.webUi, 'Web UI ↗')),
    g.waitingSince ? h('p.muted', {}, `waiting since ${when(g.waitingSince)}${g.deadline ? ` · deadline ${when(g.deadline)}` : ''}`) : undefined,
    h('div.cols', {},
      h('div', {}, h('b', {}, 'approvers'), h('ul.approvers', {}, g.approvers.map((a) => h('li', { 'data-approver': a.name },
        a.name, a.escalation ? ' (escalation)' : '', a.voted ? [' ', badge(a.voted === 'approve' ? 'approved' : 'rejected')] : '',
        a.keys.length ? h('div.muted', {}, a.keys.map((k) => k.describe).join('; ')) : h('div.muted', {}, 'no key: decisions in this name are not signed'))))),
      h('div', {}, h('b', {}, 'checks'), g.checks.length ? h('ul', {}, g.checks.map((c) => h('li', {}, badge(c.passed ? 'succeeded' : 'failed'), ` ${c.id} (${c.kind}): ${c.message}`))) : h('p.muted', {}, 'none run yet'))),
    h('b', {}, 'votes'),
    g.votes.length ? h('table.votes', {}, h('tr', {}, ['when', 'who', 'decision', 'round', 'signature', 'verification'].map((t) => h('th', {}, t))),
      g.votes.map((v) => {
        const check = verdicts.find((x) => x.approver === v.approver && x.decision === v.decision && (x.round === undefined || v.round === undefined || x.round === v.round));
        return h('tr', { 'data-approver': v.approver },
          h('td', {}, when(v.at)), h('td', {}, v.approver), h('td', {}, v.decision ?? '', v.comment ? `: ${v.comment}` : '', v.reason ? `: ${v.reason}` : '', v.void ? ' (void)' : ''),
          h('td', {}, v.round ?? ''), h('td', {}, v.fingerprint ?? (v.signature ? 'signed' : 'unsigned')),
          h('td.verdict', {}, v.ignored ? [badge('ignored'), ` ${v.ignoredReason ?? ''}`] : check ? [badge(check.verdict), check.reason ? ` ${check.reason}` : ''] : h('span.muted', {}, '…')));
      })) : h('p.muted', {}, 'no votes yet'),
    h('div', {}, h('button', { type: 'button', 'data-action': 'verify', onclick: () => verify(d) }, 're-verify from the history (sparky verify)')));
}

function stepsTable(d) {
  return h('table#steps', {}, h('tr', {}, ['step', 'kind', 'state', 'attempts', 'started', 'finished', 'log (an agent\'s: its transcript)'].map((t) => h('th', {}, t))),
    d.steps.map((st) => h('tr', { 'data-step': `${st.workstream}/${st.id}` },
      h('td', {}, `${st.workstream}/${st.id}`), h('td', {}, st.kind, st.kind === 'agent' && st.outputs?.costUsd ? h('div.muted', {}, `$${st.outputs.costUsd}`) : ''), h('td', {}, badge(st.state), st.lastError ? h('div.muted', {}, st.lastError.split('\n')[0].slice(0, 160)) : ''),
      h('td', {}, st.attempts ?? ''), h('td', {}, when(st.startedAt)), h('td', {}, when(st.finishedAt), ' ', webUiLink(d.webUi, '↗')),
      h('td', {}, st.state !== 'pending' ? h('details', { 'data-key': `log:${st.workstream}/${st.id}`, ontoggle: (e) => loadLog(d, st, e.currentTarget) }, h('summary', {}, st.kind === 'agent' ? 'transcript' : 'log'), h('pre.log', {}, '…')) : ''))));
}

async function loadLog(d, st, el) {
  if (!el.open) return;
  const pre = $('pre.log', el);
  try {
    const r = await api(`/api/runs/${encodeURIComponent(d.id)}/logs/${encodeURIComponent(st.workstream)}/${encodeURIComponent(st.id)}`);
    pre.textContent = r.text ?? r.missing;
  } catch (err) { pre.textContent = err.message; }
}

function auditTable(d) {
  if (!d.audit.length) return h('p.muted', {}, 'no decisions yet');
  return h('table#audit', {}, h('tr', {}, ['when', 'who', 'what'].map((t) => h('th', {}, t))),
    d.audit.map((a) => h('tr', { class: a.ignored ? 'ignored' : '' }, h('td', {}, when(a.at)), h('td', {}, a.who), h('td', {}, a.text))));
}

async function verify(d, quiet = false) {
  try {
    const report = await api(`/api/runs/${encodeURIComponent(d.id)}/verify`);
    if (current.run !== d.id) return;
    current.verify = { run: d.id, report };
    if (!quiet || !report.ok) banner(report.ok ? 'every gate decision verifies (sparky verify)' : `verification: ${report.problems.join('; ') || 'a decision failed to verify'}`, report.ok ? 'info' : 'error');
    if (current.detail) renderRun(current.detail);
  } catch (err) { if (!quiet) banner(err.message); }
}

// ── actions: the same updates as the CLI ──
function ask(title, fields, submit = 'send') {
  const dialog = $('#dialog');
  const form = $('#dialog-form');
  form.replaceChildren(h('h3', {}, title), ...fields.map((f) => (f instanceof Node ? f : h('label', {}, f.label, f.long ? h('textarea', { name: f.name, rows: 3 }) : h('input', { type: 'text', name: f.name, value: f.value ?? '' })))),
    h('menu', {}, h('button', { value: 'cancel', type: 'submit' }, 'cancel'), h('button', { value: 'ok', type: 'submit', id: 'dialog-ok' }, submit)));
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') return resolve(undefined);
      resolve(Object.fromEntries(new FormData(form).entries()));
    }, { once: true });
  });
}

function needName() {
  if (me()) return true;
  banner('Type your name in "you are" first: every decision records who made it.');
  $('#me').focus();
  return false;
}

async function act(d, action, item) {
  if (!needName()) return;
  try {
    if (action === 'approve' || action === 'reject') return await decide(d, item.id, action);
    const by = me();
    let input;
    if (action === 'retry') input = { action: 'retryStep', step: item.id, by, comment: (await ask(`retry ${item.id}`, [{ name: 'comment', label: 'what was fixed (optional)' }], 'retry'))?.comment };
    else if (action === 'skip') { const a = await ask(`skip ${item.id}`, [{ name: 'reason', label: 'why it may be skipped', long: true }], 'skip'); if (!a) return; input = { action: 'skipStep', step: item.id, by, comment: a.reason }; }
    else if (action === 'recheck') input = { action: 'recheckGate', gate: item.id, by };
    else if (action === 'rework') {
      const a = await ask(`rework from gate ${item.id}`, [{ name: 'rework', label: 'workstreams (comma-separated)' }, { name: 'reason', label: 'why', long: true }], 'rework');
      if (!a) return;
      input = { action: 'rework', gate: item.id, by, comment: a.reason, rework: a.rework.split(',').map((x) => x.trim()).filter(Boolean) };
    } else if (action === 'answer') { const a = await ask(`answer ${item.id}`, [{ name: 'answer', label: item.what, long: true }], 'answer'); if (!a) return; input = { action: 'answer', step: item.id, by, answer: a.answer, comment: a.answer }; }
    else if (action === 'abort') { const a = await ask(`abort the run ${d.id}`, [{ name: 'reason', label: 'why (onAbort then applies)', long: true }], 'abort the run'); if (!a) return; input = { action: 'abort', by, comment: a.reason }; }
    if (!input) return;
    if (action === 'retry' && input.comment === undefined) return;
    const r = await post(`/api/runs/${encodeURIComponent(d.id)}/resolve`, input);
    banner(`${r.result?.accepted ?? 'accepted'} (${input.action} by ${by})`, 'info');
  } catch (err) { banner(err.message); }
}

async function decide(d, gate, decision) {
  const a = await ask(`${decision} ${gate} as ${me()}`, decision === 'approve'
    ? [{ name: 'comment', label: 'comment (optional)' }]
    : [{ name: 'comment', label: 'reason', long: true }, { name: 'rework', label: 'rework only these workstreams (comma-separated; empty: the whole phase)' }], 'next');
  if (!a) return;
  const rework = (a.rework ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const q = new URLSearchParams({ gate, approver: me(), decision, comment: a.comment ?? '', rework: rework.join(',') });
  const st = await api(`/api/runs/${encodeURIComponent(d.id)}/statement?${q}`);
  const body = { gate, approver: me(), decision, comment: a.comment || undefined, rework };
  if (!st.keyed) {
    const ok = await ask(`${decision} ${gate} as ${me()} (no key in the plan: not signed)`, [h('p', {}, `${me()} has no key in the plan, so this decision is recorded under the name alone.`)], decision);
    if (!ok) return;
  } else if (!st.passkeys.length) {
    const how = st.elsewhere ? `${me()}'s passkey was made for ${st.elsewhere.join(', ')}: open the board there to sign.` : `${me()} signs with an SSH key: use the CLI.`;
    await ask(`${decision} ${gate}: sign elsewhere`, [h('p', {}, how), h('pre.statement#statement', {}, st.statement),
      h('pre', {}, `npx sparky ${decision} ${d.id} ${gate} --as ${me()}${a.comment ? ` --${decision === 'reject' ? 'reason' : 'comment'} '${a.comment}'` : ''}${rework.length ? ` --rework ${rework.join(',')}` : ''} --key ~/.ssh/id_ed25519`)], 'close');
    return;
  } else {
    const ok = await ask(`sign: ${decision} ${gate} as ${me()}`, [h('p', {}, 'Your passkey signs exactly this statement (its SHA-256 is the WebAuthn challenge):'), h('pre.statement#statement', {}, st.statement)], 'sign with passkey');
    if (!ok) return;
    const cred = await navigator.credentials.get({ publicKey: {
      challenge: unb64u(st.challenge), rpId: st.rpId, userVerification: 'required', timeout: 120000,
      allowCredentials: st.passkeys.map((id) => ({ type: 'public-key', id: unb64u(id) })),
    } });
    const r = cred.response;
    Object.assign(body, { signedAt: st.signedAt, assertion: { credentialId: b64u(cred.rawId), authenticatorData: b64u(r.authenticatorData), clientDataJSON: b64u(r.clientDataJSON), signature: b64u(r.signature) } });
  }
  const out = await post(`/api/runs/${encodeURIComponent(d.id)}/decide`, body);
  banner(`${decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${me()}: ${out.result.approvals.length}/${out.result.required} approvals, gate ${out.result.state}`, 'info');
}

// ── passkeys ──
function renderPasskeys() {
  const out = h('div#pk-out');
  main().replaceChildren(h('h1', {}, 'Register a passkey'),
    h('p', {}, `A passkey lets you sign gate decisions here, in the browser. It is made for this host (${location.hostname}); the plan lists its public key for your name.`),
    location.hostname !== 'localhost' && location.protocol !== 'https:' ? h('p#pk-warn', {}, 'Passkeys need https, or http://localhost: open the board at http://localhost:PORT.') : undefined,
    h('label', {}, 'your approver name ', h('input#pk-name', { value: me() })),
    h('button#pk-create', { type: 'button', onclick: () => register(out) }, 'create passkey'), out);
}

async function register(out) {
  const name = $('#pk-name').value.trim();
  if (!name) { banner('the approver name the plan uses'); return; }
  try {
    const cred = await navigator.credentials.create({ publicKey: {
      rp: { id: location.hostname, name: 'Sparky board' },
      user: { id: crypto.getRandomValues(new Uint8Array(16)), name, displayName: name },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      attestation: 'none', timeout: 120000,
    } });
    const r = cred.response;
    const reg = await post('/api/passkeys', { name, credentialId: b64u(cred.rawId), publicKey: b64u(r.getPublicKey()), algorithm: r.getPublicKeyAlgorithm(), clientDataJSON: b64u(r.clientDataJSON) });
    out.replaceChildren(h('p', {}, 'Add this approver entry to the plan:'), h('pre#pk-line', {}, reg.yaml), h('p.muted', {}, reg.note));
    banner('');
  } catch (err) { banner(err.message); }
}

$('#me').value = localStorage.getItem('sparky-board-me') ?? '';
$('#me').addEventListener('change', () => localStorage.setItem('sparky-board-me', me()));
window.addEventListener('hashchange', route);
route();
