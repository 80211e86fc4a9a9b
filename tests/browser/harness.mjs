// The e2e harness: a real `continuum serve --dev --demo` process on a loopback port with a
// temporary data directory, Debian's Chromium driven by playwright-core, console errors
// collected per page, screenshots under target/e2e/. Every wait is bounded.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BINARY = process.env.CONTINUUM_BIN ?? join(root, 'target', 'debug', 'continuum');
export const SCREENSHOTS = join(root, 'target', 'e2e');
/** How long any one wait for the page or the server may take. */
export const WAIT_MS = 15_000;

/** A free loopback port (the OS picks it; the server binds it right after). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A `continuum serve --demo` process; `restart()` starts it again on the same port and data. */
export class Server {
  constructor(port, data) {
    this.port = port;
    this.data = data;
    this.url = `http://127.0.0.1:${port}`;
    this.child = null;
    this.log = '';
  }

  static async start() {
    const data = mkdtempSync(join(tmpdir(), 'continuum-e2e-'));
    const server = new Server(await freePort(), data);
    await server.restart();
    return server;
  }

  async restart() {
    const child = spawn(
      BINARY,
      ['serve', '--dev', '--demo', '--listen', `127.0.0.1:${this.port}`, '--data', this.data],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONTINUUM_LOG: 'warn' } },
    );
    child.stdout.on('data', (chunk) => (this.log += chunk));
    child.stderr.on('data', (chunk) => (this.log += chunk));
    this.child = child;
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`continuum exited with ${child.exitCode}:\n${this.log}`);
      try {
        const response = await fetch(`${this.url}/readyz`);
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`continuum did not become ready within ${WAIT_MS} ms:\n${this.log}`);
  }

  /** Kills the process with `signal` and waits until it is gone. */
  async kill(signal = 'SIGKILL') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
  }

  apiKey() {
    return readFileSync(join(this.data, 'api-keys'), 'utf8').trim().split('\n')[0];
  }

  /** The backend plane's JSON view of a document. */
  async docJson(scope, name) {
    const response = await fetch(`${this.url}/v1/docs/${encodeURIComponent(scope)}/${name}`, {
      headers: { authorization: `Bearer ${this.apiKey()}` },
    });
    if (!response.ok) throw new Error(`GET doc: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.data, { recursive: true, force: true });
  }
}

/** Starts a `continuum serve --demo` and a browser before this file's tests and stops both after
 *  them; `onStart` receives `{ server, browser }` once they are up. */
export function startForThisFile(onStart) {
  let started;
  before(async () => {
    // The server first and kept at once, so `after` stops it even if the browser fails to start.
    started = { server: await Server.start() };
    started.browser = await launch();
    onStart(started);
  });
  after(async () => {
    await started?.browser?.close();
    await started?.server?.stop();
  });
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: WAIT_MS,
  });
}

/**
 * A new page that records console errors and uncaught exceptions in `page.errors`, and the
 * close codes of its WebSockets in `window.__closeCodes` (observed, not changed).
 */
export async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') page.errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => page.errors.push(`uncaught: ${error.message}`));
  return page;
}

/** Records every WebSocket close code of the context's pages in `window.__closeCodes`. */
export async function watchCloseCodes(context) {
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__closeCodes = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('close', (event) => window.__closeCodes.push(event.code));
      }
    };
  });
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the save status reads `text` (a string or a RegExp). */
export async function waitForStatus(page, text) {
  const source = text instanceof RegExp ? text.source : null;
  await page.waitForFunction(
    ([plain, pattern]) => {
      const shown = document.getElementById('status')?.textContent ?? '';
      return pattern ? new RegExp(pattern).test(shown) : shown === plain;
    },
    [source ? null : text, source],
    { timeout: WAIT_MS },
  );
}

export const statusText = (page) => page.textContent('#status');

/** Opens the demo and signs in as a guest; resolves once the draft is in the cloud. */
export async function startAsGuest(page, server) {
  await page.goto(server.url);
  await page.click('#start-guest');
  await page.waitForSelector('#app:not([hidden])');
  await waitForStatus(page, 'Saved in the cloud');
}

/** The user's scope as the server names it, from the page's session. */
export async function userScope(page) {
  return page.evaluate(async () => {
    const response = await fetch('/v1/me');
    const { session } = await response.json();
    return `user:${session.principal}`;
  });
}

/** Fails with every console error or uncaught exception any of `pages` recorded. */
export function assertNoErrors(...pages) {
  const errors = pages.flatMap((page) => page.errors);
  if (errors.length > 0) throw new Error(`browser errors:\n${errors.join('\n')}`);
}

/** Creates a handoff code on `page` (signed in) and returns it. */
export async function createHandoffCode(page) {
  await page.click('#handoff-create');
  await page.waitForSelector('#handoff-code:not([hidden])');
  return page.getAttribute('#handoff-code', 'data-code');
}

/** Opens the demo on `page` (another device) and redeems `code`. */
export async function redeem(page, server, code) {
  await page.goto(server.url);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#redeem-code', code);
  await page.click('#redeem-form button[type="submit"]');
  await page.waitForSelector('#app:not([hidden])');
  await waitForStatus(page, 'Saved in the cloud');
}

/** The step the page shows (the visible fieldset). */
export async function visibleStep(page) {
  return page.$eval('#trip-form fieldset:not([hidden])', (fieldset) => Number(fieldset.dataset.step));
}

/** Waits until the field `selector` shows `value` (another tab or device wrote it). */
export async function waitForValue(page, selector, value) {
  await page.waitForFunction(
    ([sel, expected]) => document.querySelector(sel)?.value === expected,
    [selector, value],
    { timeout: WAIT_MS },
  );
}

/** Chrome logs a refused or cut connection as a console error; while a test has the server
 *  down (or the browser context offline) that is the expected outcome of a reconnect or a
 *  poll, not a fault of the page. */
export function dropServerDownErrors(...pages) {
  const expected = /ERR_CONNECTION_(REFUSED|RESET)|ERR_EMPTY_RESPONSE|ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/;
  for (const page of pages) page.errors = page.errors.filter((line) => !expected.test(line));
}

/** Two devices of one user: a guest on `a` (its own browser context) and `b`, signed in on a
 *  second context by a handoff code. Both show "Saved in the cloud". */
export async function twoDevices(browser, server) {
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  const a = await newPage(laptop);
  const b = await newPage(phone);
  await startAsGuest(a, server);
  const code = await createHandoffCode(a);
  await redeem(b, server, code);
  return { laptop, phone, a, b, close: () => Promise.all([laptop.close(), phone.close()]) };
}

/** Puts the caret of the text field `selector` at `where` (`'start'`, `'end'` or an index). */
export async function caretAt(page, selector, where) {
  await page.focus(selector);
  await page.$eval(
    selector,
    (field, at) => {
      const index = at === 'start' ? 0 : at === 'end' ? field.value.length : at;
      field.setSelectionRange(index, index);
    },
    where,
  );
}

/** The field's value once it has been the same on every page for a moment. */
export async function settledValue(selector, ...pages) {
  const deadline = Date.now() + WAIT_MS;
  let last = null;
  while (Date.now() < deadline) {
    const values = await Promise.all(pages.map((page) => page.inputValue(selector)));
    if (values.every((value) => value === values[0])) {
      if (last === values[0]) return values[0];
      last = values[0];
    } else {
      last = null;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const values = await Promise.all(pages.map((page) => page.inputValue(selector)));
  throw new Error(`${selector} did not settle on one value within ${WAIT_MS} ms: ${JSON.stringify(values)}`);
}
