// 11. An honest status: with the server SIGSTOPped its sockets stay open but silent (a
//     half-open connection); a change that gets no ack within the SDK's bound (3 s) turns the
//     label to "Offline — N changes waiting", and after SIGCONT it is "Saved in the cloud" with
//     every change on the server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, dropServerDownErrors, newPage, screenshot, startAsGuest, startForThisFile, statusText, userScope, waitForStatus,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

/** The SDK's ack bound (ackTimeoutMs) plus the time a watchdog and a render may take. */
const BOUND_MS = 3000 + 1500;

test('a silent socket turns the label to "Offline — N changes waiting" within the bound', async (t) => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);
  const scope = await userScope(page);
  await page.fill('#name', 'Before the stop');
  await waitForStatus(page, 'Saved in the cloud');

  server.child.kill('SIGSTOP');
  try {
    await page.click('#email');
    const typedAt = Date.now();
    await page.keyboard.type('silent@example.org');
    await page.waitForFunction(() => /^Offline — \d+ changes? waiting$/.test(document.getElementById('status')?.textContent ?? ''), null, {
      timeout: BOUND_MS + 5000,
    });
    const took = Date.now() - typedAt;
    t.diagnostic(`offline shown ${took} ms after the first keystroke to a silent server`);
    assert.ok(took <= BOUND_MS + 1000, `the label turned offline ${took} ms after the first keystroke`);
    await screenshot(page, '11-silent-socket');
    // More changes while the server is silent: still offline, counted.
    await page.selectOption('#country', 'jp');
    await page.waitForTimeout(1000);
    assert.match(await statusText(page), /^Offline — \d+ changes waiting$/);
  } finally {
    server.child.kill('SIGCONT');
  }
  await waitForStatus(page, 'Saved in the cloud');
  const form = (await server.docJson(scope, 'demo-trip')).form;
  assert.equal(form.name, 'Before the stop');
  assert.equal(form.email, 'silent@example.org');
  assert.equal(form.country, 'jp');
  dropServerDownErrors(page);
  assertNoErrors(page);
  await context.close();
});
