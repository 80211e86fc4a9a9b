// The demo app: a four-step trip form on the Continuum browser SDK. Guest or handoff sign-in,
// the save status, presence ("continue where you left off"), the user's devices with revoke,
// handoff codes, and a server-side task whose progress arrives through the document.
//
// The draft is the user's document (every device); where this device is (its step, the field
// it was in) is its session's document, so another device never moves this page: other
// devices' positions are only offered. A new device starts on the step the user last chose
// anywhere (the user document's `wizard.step`), once.

import {
  Continuum,
  ContinuumError,
  type ContinuumDoc,
  type PresenceState,
  type Session,
  bindForm,
  deviceName,
} from '../../sdk/browser/src/index.js';

import { LABELS, displayValue } from './labels.js';
import { showOverwrite } from './notices.js';

/** The document name the server's PDF task writes to (crates/continuum-server/src/demo/pdf_task.rs). */
const DOC_NAME = 'demo-trip';
/** This device's place in the form: its session's document. */
const NAV_NAME = 'demo-nav';
const STEPS = 4;
/** The server writes a running task's progress every 250 ms; past this it was interrupted. */
const TASK_STALE_MS = 5000;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const continuum = new Continuum();
let doc: ContinuumDoc | null = null;
/** This device's session document: its step and focused field. */
let nav: ContinuumDoc | null = null;
let step = 1;

function show(view: 'login' | 'app' | 'signed-out'): void {
  for (const id of ['login', 'app', 'signed-out']) $(id).hidden = id !== view;
  $('sign-out').hidden = view !== 'app';
  // The save status speaks of a draft: there is none before signing in.
  $('status').hidden = view !== 'app';
}

function shortSid(sid: string): string {
  return sid.slice(0, 4);
}

/** Keeps the app shell in a service worker (web/src/sw.js), so a reload works offline. */
function keepShellOffline(): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch((error: unknown) => {
    // The demo works without it; only reloads while offline need it.
    console.warn('the offline shell is not available:', error);
  });
}

async function main(): Promise<void> {
  keepShellOffline();
  continuum.onSignedOut(() => {
    doc = null;
    nav = null;
    $('who').textContent = '';
    show('signed-out');
  });
  continuum.onSignOutConfirmed(() => showSignOutNote());
  showSignOutNote();
  $('start-guest').addEventListener('click', () => void signIn(() => continuum.startGuest()));
  $('start-again').addEventListener('click', () => window.location.reload());
  $('redeem-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $<HTMLInputElement>('redeem-code').value;
    void signIn(() => continuum.handoff.redeem(code));
  });
  $('sign-out').addEventListener('click', () => void signOut());
  // A browser that never signed in has nothing to ask the server about.
  const known = continuum.lastSession();
  let session: Session | null = null;
  if (known) {
    try {
      session = await continuum.me();
    } catch {
      // Offline at load: open the draft from this browser's copy; it syncs when the server is back.
      session = known;
      continuum.useOffline(known);
    }
  }
  if (session) await start(session);
  else show('login');
}

async function signIn(how: () => Promise<Session>): Promise<void> {
  const error = $('redeem-error');
  error.textContent = '';
  try {
    await start(await how(), true);
  } catch (failure) {
    error.textContent =
      failure instanceof ContinuumError ? failure.detail : 'The server cannot be reached. Try again in a moment.';
  }
}

/** Signs out; says so on the start screen, also when the server must still be told. */
async function signOut(): Promise<void> {
  $<HTMLButtonElement>('sign-out').disabled = true;
  await continuum.signOut();
  window.location.reload();
}

/** The start screen's word on a sign-out that has not reached the server yet. */
function showSignOutNote(): void {
  const note = $('sign-out-note');
  note.hidden = !continuum.signOutPending;
  note.textContent = continuum.signOutPending
    ? 'Signed out on this device and its draft removed. The server cannot be reached yet; it will be told as soon as it can, and until then nobody can sign in here.'
    : '';
}

/** What the status announces to a screen reader: only a change of situation (offline,
 *  signed out, back in the cloud after being offline), not every save. */
function announce(state: string): void {
  const shown = $('status-announce');
  const before = shown.dataset.state ?? '';
  shown.dataset.state = state === 'local' ? before : state;
  if (state === 'offline' && before !== 'offline') shown.textContent = 'Offline: your changes are kept in this browser.';
  else if (state === 'signed-out' && before !== 'signed-out') shown.textContent = 'Signed out: changes are no longer saved.';
  else if (state === 'cloud' && before === 'offline') shown.textContent = 'Back online: everything is saved in the cloud.';
}

async function start(session: Session, fromSignIn = false): Promise<void> {
  $('who').textContent = `${deviceName(session.device.user_agent)} · ${shortSid(session.sid)}`;
  show('app');
  const opened = await continuum.open('user', DOC_NAME);
  const here = await continuum.open('session', NAV_NAME);
  doc = opened;
  nav = here;
  opened.status.subscribe((status) => {
    const element = $('status');
    element.textContent = status.label;
    element.dataset.state = status.state;
    announce(status.state);
  });
  const form = bindForm($<HTMLFormElement>('trip-form'), opened);
  form.onOverwrite((overwrite) => showOverwrite(form, overwrite));
  const wizard = opened.map<number>('wizard');
  const place = here.map<unknown>('place');
  const own = (): number | undefined => {
    const value = place.get('step');
    return typeof value === 'number' ? value : undefined;
  };
  await Promise.all([opened.ready, here.ready]);
  goTo(own() ?? Number(wizard.get('step') ?? 1), false);
  restoreFocus(place, fromSignIn);
  if (own() === undefined) {
    // A new device (a handoff): start where the user last was, once the server said where.
    void Promise.all([opened.synced, here.synced]).then(() => {
      if (own() === undefined) goTo(Number(wizard.get('step') ?? step), true);
    });
  }
  // Another tab of this device moved: follow it (it is the same device).
  place.observe((_event, transaction) => {
    const target = own();
    if (!transaction.local && target !== undefined && target !== step) goTo(target, false);
  });
  $('trip-form').addEventListener('focusin', (event) => {
    const id = (event.target as HTMLElement | null)?.id;
    if (id && place.get('focus') !== id) place.set('focus', id);
  });
  $('back').addEventListener('click', () => goTo(step - 1, true));
  $('next').addEventListener('click', () => {
    form.flush();
    goTo(step + 1, true);
  });
  $('trip-form').addEventListener('input', () => renderSummary(opened));
  opened.map('form').observe(() => renderSummary(opened));
  renderSummary(opened);
  watchTask(opened);
  watchPresence(opened);
  watchDevices(session);
  $('prepare-pdf').addEventListener('click', () => void preparePdf());
  $('handoff-create').addEventListener('click', () => void createHandoff());
}

/** Focus where this device left it (a reload), or on the first field after signing in. */
function restoreFocus(place: { get(key: string): unknown }, fromSignIn: boolean): void {
  const id = place.get('focus');
  const kept = typeof id === 'string' ? document.getElementById(id) : null;
  const fieldset = document.querySelector<HTMLFieldSetElement>(`#trip-form fieldset[data-step="${step}"]`);
  if (kept && fieldset?.contains(kept)) kept.focus();
  else if (fromSignIn) fieldset?.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
}

function goTo(target: number, record: boolean): void {
  step = Math.min(Math.max(target, 1), STEPS);
  for (const fieldset of document.querySelectorAll<HTMLFieldSetElement>('#trip-form fieldset')) {
    fieldset.hidden = fieldset.dataset.step !== String(step);
  }
  for (const item of document.querySelectorAll<HTMLLIElement>('#step-list li')) {
    const n = Number(item.dataset.step);
    item.classList.toggle('current', n === step);
    item.classList.toggle('done', n < step);
    if (n === step) item.setAttribute('aria-current', 'step');
    else item.removeAttribute('aria-current');
  }
  $<HTMLButtonElement>('back').disabled = step === 1;
  $('next').hidden = step === STEPS;
  if (!doc) return;
  const place = nav?.map<unknown>('place');
  const at = record ? Date.now() : Number(place?.get('at') ?? 0);
  if (record) {
    // This device's place, and the user's last step (where a new device starts).
    nav?.doc.transact(() => {
      place?.set('step', step);
      place?.set('at', at);
    });
    doc.map<number>('wizard').set('step', step);
  }
  // When this device got here: a restored place is not a new move.
  doc.presence.moveTo({ step }, at);
  if (offered) $('continue-banner').hidden = offered.step === step;
}



function renderSummary(current: ContinuumDoc): void {
  const values = current.map('form').toJSON() as Record<string, unknown>;
  const list = $('summary');
  list.replaceChildren();
  for (const [key, label] of Object.entries(LABELS)) {
    const text = displayValue(key, values[key]);
    const term = document.createElement('dt');
    term.textContent = label;
    const definition = document.createElement('dd');
    definition.textContent = text;
    list.append(term, definition);
  }
}

function watchTask(current: ContinuumDoc): void {
  const task = current.map<unknown>('task');
  const render = (): void => {
    const state = String(task.get('state') ?? 'none');
    const progress = Number(task.get('progress') ?? 0);
    const updated = Number(task.get('updated_at') ?? 0);
    const stale = state === 'running' && Date.now() - updated > TASK_STALE_MS;
    const shown = stale ? 'interrupted' : state;
    $('task').dataset.state = shown;
    $('task-bar').style.width = `${shown === 'none' ? 0 : progress}%`;
    $('task-text').textContent =
      shown === 'running'
        ? `Preparing the PDF… ${progress}%`
        : shown === 'done'
          ? `Your PDF is ready (${String(task.get('pages') ?? '?')} pages).`
          : shown === 'interrupted'
            ? `Interrupted at ${progress}% (the server restarted). Prepare it again.`
            : 'Not prepared yet. Finish the form and choose “Prepare the PDF”.';
    $<HTMLButtonElement>('prepare-pdf').disabled = shown === 'running';
  };
  task.observe(render);
  render();
  // A running task that stops reporting turns into "interrupted" without a change to observe.
  setInterval(render, 1000);
}

async function preparePdf(): Promise<void> {
  doc?.flush();
  const response = await fetch('/demo/api/pdf', { method: 'POST', credentials: 'include' });
  if (!response.ok && response.status !== 409) $('task-text').textContent = 'The PDF could not be started.';
}

/** The other device's position on offer, if any. */
let offered: PresenceState | null = null;

function watchPresence(current: ContinuumDoc): void {
  current.presence.onContinue((next) => {
    offered = next;
    $('continue-banner').hidden = !next || next.step === step;
    if (next) $('continue-text').textContent = `Your other device (${next.device.name} · ${shortSid(next.device.sid)}) is on step ${String(next.step)} — continue there?`;
  });
  $('continue-button').addEventListener('click', () => {
    if (offered) goTo(Number(offered.step), true);
    $('continue-banner').hidden = true;
  });
  current.presence.onChange(() => void refreshDevices());
}

let currentSession: Session | null = null;

function watchDevices(session: Session): void {
  currentSession = session;
  void refreshDevices();
  setInterval(() => void refreshDevices(), 5000);
}

async function refreshDevices(): Promise<void> {
  if (!currentSession || !doc) return;
  const ul = $('devices');
  let list;
  try {
    list = await continuum.devices();
  } catch {
    // Offline (a reload while the server is down): keep what was shown, or say why it is empty.
    if (ul.childElementCount === 0) {
      const note = document.createElement('li');
      note.className = 'device-detail';
      note.textContent = 'Shown again once the server can be reached.';
      ul.append(note);
    }
    return;
  }
  const here = doc.presence.others();
  noticeCodeUsed(list.sessions.map((device) => device.sid));
  ul.replaceChildren();
  // This device first, then the others, newest first.
  const sessions = [...list.sessions].sort((x, y) =>
    x.sid === list.current ? -1 : y.sid === list.current ? 1 : y.created_at.localeCompare(x.created_at),
  );
  for (const device of sessions) {
    const item = document.createElement('li');
    item.dataset.sid = device.sid;
    const name = document.createElement('span');
    name.className = 'device-name';
    name.textContent = `${deviceName(device.device.user_agent)} · ${shortSid(device.sid)}`;
    const detail = document.createElement('span');
    detail.className = 'device-detail';
    const online = here.find((state) => state.device.sid === device.sid);
    detail.textContent =
      device.sid === list.current ? 'This device' : online ? `Active now · step ${String(online.step ?? '?')}` : 'Not active';
    item.append(name, detail);
    if (device.sid !== list.current) {
      const revoke = document.createElement('button');
      revoke.type = 'button';
      revoke.className = 'danger';
      revoke.textContent = 'Sign out';
      revoke.setAttribute('aria-label', `Sign out ${name.textContent}`);
      revoke.addEventListener('click', () => {
        revoke.disabled = true;
        void continuum.revokeDevice(device.sid).finally(() => void refreshDevices());
      });
      item.append(revoke);
    }
    ul.append(item);
  }
}

/** The devices signed in when the shown code was made: a new one means the code was used. */
let sidsAtCode: Set<string> | null = null;

function noticeCodeUsed(sids: string[]): void {
  if (!sidsAtCode || $('handoff-code').hidden) return;
  if (!sids.some((sid) => !sidsAtCode?.has(sid))) return;
  sidsAtCode = null;
  $('handoff-code').hidden = true;
  $('handoff-code').dataset.code = '';
  $('handoff-expiry').textContent = 'The code was used: your other device is signed in.';
}

async function createHandoff(): Promise<void> {
  const code = $('handoff-code');
  try {
    const offer = await continuum.handoff.create();
    sidsAtCode = new Set((await continuum.devices().catch(() => null))?.sessions.map((device) => device.sid) ?? []);
    code.textContent = `${offer.code.slice(0, 4)}-${offer.code.slice(4)}`;
    code.dataset.code = offer.code;
    code.hidden = false;
    const expires = new Date(offer.expires_at).getTime();
    const tick = (): void => {
      if (code.hidden || code.dataset.code !== offer.code) return;
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      $('handoff-expiry').textContent = left > 0 ? `Valid for ${left} s, once.` : 'Expired: show a new code.';
      if (left > 0) setTimeout(tick, 1000);
      else code.hidden = true;
    };
    tick();
  } catch (failure) {
    $('handoff-expiry').textContent = failure instanceof ContinuumError ? failure.detail : 'The server cannot be reached.';
  }
}

void main();
