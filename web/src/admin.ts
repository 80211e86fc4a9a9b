// The admin page: API-key sign-in, the store's and the sync layer's key metrics, live
// documents with their connected devices (each principal opens its sessions), and a
// principal's sessions with revoke, confirmed before it is done. Sessions are findable
// without the user id: by a session id in the search box, and in the recent sessions fed by
// `/v1/events` while the page is open.

import { ContinuumError, deviceName } from '../../sdk/browser/src/index.js';
import { errorFrom } from '../../sdk/browser/src/errors.js';
import type { Session } from '../../sdk/browser/src/types.js';

interface LiveDoc {
  scope: string;
  name: string;
  peers: number;
  devices: { sid?: string; principal?: string; device?: { user_agent?: string; label?: string }; sockets: number }[];
}

const KEY = 'continuum-admin-key';
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

async function api<T>(method: string, path: string): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` },
  });
  if (!response.ok) throw await errorFrom(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** A button that asks once more before `action`: the first click turns it into "Confirm …"
 *  (with a Cancel beside it), the second does it. Revoking cannot be undone. */
function confirmingButton(label: string, confirmLabel: string, action: () => Promise<unknown>): HTMLSpanElement {
  const wrap = document.createElement('span');
  wrap.className = 'confirm';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'danger';
  button.textContent = label;
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'quiet cancel';
  cancel.textContent = 'Cancel';
  cancel.hidden = true;
  let armed = false;
  const disarm = (): void => {
    armed = false;
    button.textContent = label;
    cancel.hidden = true;
  };
  button.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      cancel.hidden = false;
      return;
    }
    button.disabled = true;
    cancel.hidden = true;
    void action();
  });
  cancel.addEventListener('click', disarm);
  wrap.append(button, cancel);
  return wrap;
}

/** Shows the sessions of `who` (a principal) in the sessions card. */
function openPrincipal(who: string): void {
  principal = who;
  $<HTMLInputElement>('principal').value = who;
  void showSessions();
  $('principal').scrollIntoView({ block: 'center' });
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The samples of a Prometheus text exposition, by metric name (labels summed). */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || !match[3]) continue;
    values.set(match[1], (values.get(match[1]) ?? 0) + Number(match[3]));
  }
  return values;
}

async function refreshMetrics(): Promise<void> {
  const response = await fetch('/metrics');
  const m = parseMetrics(await response.text());
  const get = (name: string): number => m.get(name) ?? 0;
  const commits = get('continuum_store_commit_duration_seconds_count');
  const rows: [string, string][] = [
    ['Sessions in the store', String(get('continuum_sessions'))],
    ['Store commits', String(commits)],
    ['Writes per commit (mean)', commits ? (get('continuum_store_commit_batch_size_sum') / commits).toFixed(1) : '—'],
    ['Commit time (mean)', commits ? `${((get('continuum_store_commit_duration_seconds_sum') / commits) * 1000).toFixed(2)} ms` : '—'],
    ['Live documents', String(get('continuum_sync_live_documents'))],
    ['Connected sockets', String(get('continuum_sync_peers'))],
    ['Updates delivered', String(get('continuum_sync_updates_delivered_total'))],
    ['Updates persisted', String(get('continuum_sync_updates_persisted_total'))],
    ['Outbound queued (max)', `${get('continuum_sync_outbound_queued')} (${get('continuum_sync_outbound_queued_max')})`],
    ['Sockets dropped for lag', String(get('continuum_sync_peers_detached_for_lag_total'))],
    ['Server memory', `${(get('continuum_process_resident_memory_bytes') / 1048576).toFixed(0)} MiB`],
  ];
  const list = $('metrics');
  list.replaceChildren();
  for (const [label, value] of rows) {
    const pair = document.createElement('div');
    const term = document.createElement('dt');
    term.textContent = label;
    const definition = document.createElement('dd');
    definition.textContent = value;
    pair.append(term, definition);
    list.append(pair);
  }
  $('metrics-time').textContent = `at ${new Date().toLocaleTimeString()}`;
}

async function refreshLiveDocs(): Promise<void> {
  const { docs } = await api<{ docs: LiveDoc[] }>('GET', '/v1/live/docs');
  const body = $('live-docs');
  body.replaceChildren();
  if (docs.length === 0) {
    const row = document.createElement('tr');
    const empty = cell('No document is open right now.', 'hint');
    empty.colSpan = 3;
    row.append(empty);
    body.append(row);
  }
  for (const doc of docs) {
    const row = document.createElement('tr');
    const devices = cell(doc.devices.length === 0 ? '—' : '');
    doc.devices.forEach((d, index) => {
      if (index > 0) devices.append(', ');
      if (!d.sid) return devices.append('a backend');
      devices.append(`${deviceName(d.device?.user_agent)} · ${d.sid.slice(0, 4)} (`);
      if (d.principal) {
        // The principal opens its sessions below.
        const open = document.createElement('button');
        open.type = 'button';
        open.className = 'link';
        open.textContent = d.principal;
        open.setAttribute('aria-label', `Show the sessions of ${d.principal}`);
        const who = d.principal;
        open.addEventListener('click', () => openPrincipal(who));
        devices.append(open);
      } else {
        devices.append('ended');
      }
      devices.append(')');
    });
    row.append(cell(`${doc.scope} / ${doc.name}`, 'mono'), cell(String(doc.peers)), devices);
    body.append(row);
  }
}

let principal = '';

/** A session event from `/v1/events`. */
interface SessionEvent {
  kind: string;
  sid: string;
  principal: string;
  at: string;
}

/** The most recent events shown (newest first). */
const RECENT_MAX = 50;
const recent: SessionEvent[] = [];

function renderRecent(): void {
  const body = $('recent');
  body.replaceChildren();
  for (const event of recent) {
    const row = document.createElement('tr');
    const who = cell('');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.textContent = event.principal;
    open.setAttribute('aria-label', `Show the sessions of ${event.principal}`);
    open.addEventListener('click', () => openPrincipal(event.principal));
    who.append(open);
    row.append(cell(new Date(event.at).toLocaleTimeString()), cell(event.kind), cell(event.sid, 'mono'), who);
    body.append(row);
  }
}

/** Follows `/v1/events` (server-sent events, read with fetch so the API key can go in a header)
 *  and keeps the newest session events; reconnects 3 s after the stream ends. */
async function followEvents(): Promise<void> {
  try {
    const response = await fetch('/v1/events', { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` } });
    if (!response.ok || !response.body) throw await errorFrom(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
        if (!data) continue;
        const event = JSON.parse(data) as Partial<SessionEvent>;
        if (typeof event.sid !== 'string' || typeof event.principal !== 'string') continue;
        recent.unshift(event as SessionEvent);
        recent.length = Math.min(recent.length, RECENT_MAX);
        renderRecent();
      }
    }
  } catch {
    // Cut or refused: try again shortly; what was shown stays.
  }
  setTimeout(() => void followEvents(), 3000);
}

/** What the search box names: a session id (22 base64url characters) is looked up for its
 *  principal; anything else is a principal. */
async function resolveSearch(text: string): Promise<string> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(text)) return text;
  try {
    const found = await api<{ session?: Session } & Partial<Session>>('GET', `/v1/sessions/${text}`);
    return found.session?.principal ?? found.principal ?? text;
  } catch {
    return text;
  }
}

async function showSessions(): Promise<void> {
  const error = $('principal-error');
  error.textContent = '';
  const body = $('sessions');
  body.replaceChildren();
  $<HTMLButtonElement>('revoke-all').disabled = true;
  if (!principal) return;
  let sessions: Session[];
  try {
    ({ sessions } = await api<{ sessions: Session[] }>('GET', `/v1/principals/${encodeURIComponent(principal)}/sessions`));
  } catch (failure) {
    error.textContent = failure instanceof ContinuumError ? failure.detail : 'The server cannot be reached.';
    return;
  }
  $<HTMLButtonElement>('revoke-all').disabled = sessions.length === 0;
  if (sessions.length === 0) error.textContent = `${principal} has no live session.`;
  for (const session of sessions) {
    const row = document.createElement('tr');
    const action = document.createElement('td');
    action.append(
      confirmingButton('Revoke', 'Confirm revoke', () =>
        api('DELETE', `/v1/sessions/${session.sid}`).finally(() => void showSessions()),
      ),
    );
    row.append(
      cell(session.sid, 'mono'),
      cell(session.device.label ?? deviceName(session.device.user_agent)),
      cell(new Date(session.last_seen_at).toLocaleString()),
      cell(session.status),
      action,
    );
    body.append(row);
  }
}

async function refresh(): Promise<void> {
  await Promise.all([refreshMetrics(), refreshLiveDocs()]);
}

async function enter(): Promise<boolean> {
  try {
    await refreshLiveDocs();
  } catch (failure) {
    sessionStorage.removeItem(KEY);
    $('key-error').textContent = failure instanceof ContinuumError ? failure.detail : 'The server cannot be reached.';
    return false;
  }
  $('key-view').hidden = true;
  $('admin-view').hidden = false;
  $('logout').hidden = false;
  await refreshMetrics();
  void followEvents();
  setInterval(() => void refresh().catch(() => undefined), 3000);
  return true;
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $<HTMLInputElement>('api-key').value.trim());
  void enter();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  window.location.reload();
});
$('principal-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void resolveSearch($<HTMLInputElement>('principal').value.trim()).then((who) => {
    principal = who;
    void showSessions();
  });
});
$('revoke-all').addEventListener('click', () => {
  const button = $<HTMLButtonElement>('revoke-all');
  if (button.dataset.armed !== 'true') {
    // Asked once more: every device of the principal is signed out.
    button.dataset.armed = 'true';
    button.textContent = 'Confirm revoke all';
    return;
  }
  button.dataset.armed = '';
  button.textContent = 'Revoke all';
  void api('DELETE', `/v1/principals/${encodeURIComponent(principal)}/sessions`).finally(() => void showSessions());
});
if (sessionStorage.getItem(KEY)) void enter();
