// 13. Sign-out that sticks: signing out while the server is down wipes the draft at once, says
//     the server will be told, and once the server is back the old cookie is refused
//     (`/v1/me` 401) within seconds, with no uncaught error.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { WAIT_MS, assertNoErrors, dropServerDownErrors, newPage, screenshot, startAsGuest, startForThisFile, waitForStatus } from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

/** `/v1/me`'s status for `cookie`, asked from outside the browser. */
async function meStatus(cookie) {
  const response = await fetch(`${server.url}/v1/me`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  return response.status;
}

test('a sign-out while the server is down is queued and ends the session once it is back', async (t) => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);
  await page.fill('#name', 'On a shared computer');
  await waitForStatus(page, 'Saved in the cloud');
  const [cookie] = await context.cookies(server.url);
  assert.ok(cookie, 'the session cookie');
  assert.equal(await meStatus(cookie), 200);

  await server.kill('SIGKILL');
  await page.click('#sign-out');
  await page.waitForSelector('#login:not([hidden])');
  await page.waitForSelector('#sign-out-note:not([hidden])');
  assert.match(await page.textContent('#sign-out-note'), /server cannot be reached yet; it will be told as soon as it can/);
  // The draft is gone from this browser at once.
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name));
  assert.deepEqual(databases.filter((name) => name?.startsWith('continuum:')), []);
  await screenshot(page, '13-sign-out-queued');

  await server.restart();
  const back = Date.now();
  const deadline = back + WAIT_MS;
  let status = await meStatus(cookie);
  while (status !== 401 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await meStatus(cookie);
  }
  assert.equal(status, 401, 'the old cookie no longer signs anybody in');
  t.diagnostic(`the server ended the session ${Date.now() - back} ms after it was back`);
  await page.waitForSelector('#sign-out-note', { state: 'hidden' });
  // A new guest session starts normally afterwards.
  await page.click('#start-guest');
  await waitForStatus(page, 'Saved in the cloud');
  assert.equal(await page.inputValue('#name'), '');
  dropServerDownErrors(page);
  assertNoErrors(page);
  await context.close();
});
