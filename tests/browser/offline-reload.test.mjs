// 6. Kill the server, keep typing, reload the page while the server is still down: the page
//    loads from the demo's service worker, the draft from IndexedDB, and the status still counts
//    the changes waiting; once the server is back they reach the cloud.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, dropServerDownErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope, waitForStatus,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('a reload while the server is down keeps the page, the draft and the waiting count', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);
  const scope = await userScope(page);
  await page.fill('#name', 'Ada Lovelace');
  await waitForStatus(page, 'Saved in the cloud');
  // The worker keeps the shell once it controls the page.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await server.kill('SIGKILL');
  await waitForStatus(page, /^Offline/);
  await page.fill('#email', 'ada@example.org');
  await page.selectOption('#country', 'fr');
  await page.click('#next');
  await page.fill('#destination', 'Turin');
  await page.check('input[name="class"][value="economy"]');
  // Five changes: every field edit is written at once (email, country, destination, class),
  // and the step.
  await waitForStatus(page, 'Offline — 5 changes waiting');

  await page.reload();
  await page.waitForSelector('#app:not([hidden])');
  await waitForStatus(page, 'Offline — 5 changes waiting');
  assert.equal(await page.inputValue('#destination'), 'Turin');
  assert.equal(await page.inputValue('#email'), 'ada@example.org');
  await page.waitForFunction(() => /server can be reached/.test(document.getElementById('devices').textContent));
  await screenshot(page, '6-offline-reload');

  await server.restart();
  await waitForStatus(page, 'Saved in the cloud');
  await page.waitForSelector('#devices li[data-sid]', { timeout: 10_000 });
  const doc = await server.docJson(scope, 'demo-trip');
  assert.deepEqual(doc.form, {
    name: 'Ada Lovelace', email: 'ada@example.org', country: 'fr', destination: 'Turin', class: 'economy',
  });
  assert.equal(doc.wizard.step, 2);
  // The count was cleared once the server acknowledged the changes: a reload online starts at 0.
  await page.reload();
  await waitForStatus(page, 'Saved in the cloud');

  dropServerDownErrors(page);
  assertNoErrors(page);
  await context.close();
});
