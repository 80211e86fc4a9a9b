// 2. Kill the server with SIGKILL, keep typing, restart it on the same data dir and port: the
//    status goes "Offline — N changes waiting" → "Saved in the cloud", and the server's JSON
//    view has every field.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, dropServerDownErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope, waitForStatus,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));


test('offline edits wait, then reach the cloud after a SIGKILL and restart', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);
  const scope = await userScope(page);
  await page.fill('#name', 'Grace Hopper');
  await waitForStatus(page, 'Saved in the cloud');

  await server.kill('SIGKILL');
  await waitForStatus(page, /^Offline/);
  await page.fill('#email', 'grace@example.org');
  await page.selectOption('#country', 'us');
  await page.click('#next');
  await page.fill('#destination', 'Tokyo');
  await page.check('input[name="class"][value="first"]');
  // Five changes: every field edit is written at once (email, country, destination, class),
  // and the step.
  await waitForStatus(page, 'Offline — 5 changes waiting');
  await screenshot(page, '2-offline-waiting');

  await server.restart();
  await waitForStatus(page, 'Saved in the cloud');
  await screenshot(page, '2-back-in-the-cloud');
  const doc = await server.docJson(scope, 'demo-trip');
  assert.deepEqual(doc.form, {
    name: 'Grace Hopper', email: 'grace@example.org', country: 'us', destination: 'Tokyo', class: 'first',
  });
  assert.equal(doc.wizard.step, 2);

  dropServerDownErrors(page);
  assertNoErrors(page);
  await context.close();
});
