// The demo app: a four-step trip form on the Continuum browser SDK. Guest or handoff sign-in,
// the save status, presence ("continue where you left off"), the user's devices with revoke,
// handoff codes, and a server-side task whose progress arrives through the document.

import {
  Continuum,
  ContinuumError,
  type ContinuumDoc,
  type PresenceState,
  type Session,
  bindForm,
  deviceName,
} from '../../sdk/browser/src/index.js';

/** The document name the server's PDF task writes to (crates/continuum-server/src/demo/pdf_task.rs). */
const DOC_NAME = 'demo-trip';
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
let step = 1;
/** Whether the visitor moved between steps on this page; until then it follows the draft's
 *  step as it arrives (from the server after a handoff, or from another tab). */
let navigated = false;

function show(view: 'login' | 'app' | 'signed-out'): void {
  for (const id of ['login', 'app', 'signed-out']) $(id).hidden = id !== view;
  $('sign-out').hidden = view !== 'app';
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
    $('who').textContent = '';
    show('signed-out');
  });
  $('start-guest').addEventListener('click', () => void signIn(() => continuum.startGuest()));
  $('start-again').addEventListener('click', () => window.location.reload());
  $('redeem-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $<HTMLInputElement>('redeem-code').value;
    void signIn(() => continuum.handoff.redeem(code));
  });
  $('sign-out').addEventListener('click', () => void continuum.signOut().finally(() => window.location.reload()));
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
    await start(await how());
  } catch (failure) {
    error.textContent =
      failure instanceof ContinuumError ? failure.detail : 'The server cannot be reached. Try again in a moment.';
  }
}

async function start(session: Session): Promise<void> {
  $('who').textContent = `${deviceName(session.device.user_agent)} · ${shortSid(session.sid)}`;
  show('app');
  const opened = await continuum.open('user', DOC_NAME);
  doc = opened;
  opened.status.subscribe((status) => {
    const element = $('status');
    element.textContent = status.label;
    element.dataset.state = status.state;
  });
  const form = bindForm($<HTMLFormElement>('trip-form'), opened);
  const wizard = opened.map<number>('wizard');
  await opened.ready;
  goTo(Number(wizard.get('step') ?? 1), false);
  wizard.observe((_event, transaction) => {
    if (!transaction.local && !navigated) goTo(Number(wizard.get('step') ?? 1), false);
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

function goTo(target: number, record: boolean): void {
  step = Math.min(Math.max(target, 1), STEPS);
  for (const fieldset of document.querySelectorAll<HTMLFieldSetElement>('#trip-form fieldset')) {
    fieldset.hidden = fieldset.dataset.step !== String(step);
  }
  for (const item of document.querySelectorAll<HTMLLIElement>('#step-list li')) {
    const n = Number(item.dataset.step);
    item.classList.toggle('current', n === step);
    item.classList.toggle('done', n < step);
  }
  $<HTMLButtonElement>('back').disabled = step === 1;
  $('next').hidden = step === STEPS;
  if (!doc) return;
  if (record) {
    navigated = true;
    doc.map<number>('wizard').set('step', step);
  }
  doc.presence.moveTo({ step });
}

const LABELS: Record<string, string> = {
  name: 'Name', email: 'Email', country: 'Country', destination: 'Destination', departure: 'Departure',
  class: 'Class', notes: 'Notes', insurance: 'Insurance', vegetarian: 'Vegetarian meals',
  newsletter: 'Travel tips', seat: 'Seat',
};

function renderSummary(current: ContinuumDoc): void {
  const values = current.map('form').toJSON() as Record<string, unknown>;
  const list = $('summary');
  list.replaceChildren();
  for (const [key, label] of Object.entries(LABELS)) {
    const value = values[key];
    // A select shows its option's text, not its code.
    const select = document.querySelector<HTMLSelectElement>(`#trip-form select[name="${key}"]`);
    const option = select ? Array.from(select.options).find((o) => o.value === String(value)) : undefined;
    const text =
      value === true
        ? 'Yes'
        : value === false || value === undefined || value === '' || value === null
          ? '—'
          : (option?.textContent ?? String(value));
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

function watchPresence(current: ContinuumDoc): void {
  let offer: PresenceState | null = null;
  current.presence.onContinue((next) => {
    offer = next;
    $('continue-banner').hidden = !next || next.step === step;
    if (next) $('continue-text').textContent = `Your other device (${next.device.name} · ${shortSid(next.device.sid)}) is on step ${String(next.step)}.`;
  });
  $('continue-button').addEventListener('click', () => {
    if (offer) goTo(Number(offer.step), true);
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

async function createHandoff(): Promise<void> {
  const code = $('handoff-code');
  try {
    const offer = await continuum.handoff.create();
    code.textContent = `${offer.code.slice(0, 4)}-${offer.code.slice(4)}`;
    code.dataset.code = offer.code;
    code.hidden = false;
    const expires = new Date(offer.expires_at).getTime();
    const tick = (): void => {
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
