// The admin page: API-key sign-in, key metrics, live documents with their devices, and a
// principal's sessions with revoke.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('the admin page shows live documents and revokes a session', async () => {
  const userContext = await browser.newContext();
  const user = await newPage(userContext);
  await startAsGuest(user, server);
  const principal = (await userScope(user)).slice('user:'.length);
  const sid = await user.evaluate(async () => (await (await fetch('/v1/me')).json()).session.sid);

  const adminContext = await browser.newContext();
  const admin = await newPage(adminContext);
  await admin.goto(`${server.url}/admin`);
  await admin.fill('#api-key', 'ck_not-a-key');
  await admin.click('#key-form button[type="submit"]');
  await admin.waitForFunction(() => document.getElementById('key-error')?.textContent === 'the API key is not valid');
  admin.errors = admin.errors.filter((line) => !/status of 401 .*\/v1\/live\/docs/.test(line));

  await admin.fill('#api-key', server.apiKey());
  await admin.click('#key-form button[type="submit"]');
  await admin.waitForSelector('#admin-view:not([hidden])');
  const row = await admin.waitForSelector(`#live-docs tr:has-text("${principal}")`);
  assert.match(await row.textContent(), new RegExp(`demo-trip.*1.*${sid.slice(0, 4)}`));
  // Two live documents: the user's draft and the device's place in the form (its session's).
  await admin.waitForFunction(() => document.getElementById('metrics')?.textContent.includes('Live documents2'));

  // The live document's principal opens its sessions.
  await admin.click(`#live-docs button.link:has-text("${principal}")`);
  await admin.waitForSelector(`#sessions tr:has-text("${sid}")`);
  assert.equal(await admin.inputValue('#principal'), principal);
  await screenshot(admin, '7-admin');
  // Revoking asks once more; Cancel leaves the session alone.
  const revoke = `#sessions tr:has-text("${sid}") button.danger`;
  await admin.click(revoke);
  assert.equal(await admin.textContent(revoke), 'Confirm revoke');
  await admin.click(`#sessions tr:has-text("${sid}") button.cancel`);
  assert.equal(await admin.textContent(revoke), 'Revoke');
  await admin.click(revoke);
  await admin.click(revoke);
  await admin.waitForFunction(
    () => document.getElementById('principal-error')?.textContent.endsWith('has no live session.'),
  );
  await user.waitForSelector('#signed-out:not([hidden])');
  user.errors = user.errors.filter((line) => !/status of 401 .*\/v1\/me/.test(line));
  assertNoErrors(admin, user);
  await userContext.close();
  await adminContext.close();
});

test('the admin page finds sessions without the user id: recent sessions and a session id search', async () => {
  const adminContext = await browser.newContext();
  const admin = await newPage(adminContext);
  await admin.goto(`${server.url}/admin`);
  await admin.fill('#api-key', server.apiKey());
  await admin.click('#key-form button[type="submit"]');
  await admin.waitForSelector('#admin-view:not([hidden])');

  const userContext = await browser.newContext();
  const user = await newPage(userContext);
  await startAsGuest(user, server);
  const principal = (await userScope(user)).slice('user:'.length);
  const sid = await user.evaluate(async () => (await (await fetch('/v1/me')).json()).session.sid);
  // The new session shows up among the recent ones, live.
  const row = await admin.waitForSelector(`#recent tr:has-text("${sid}")`);
  assert.match(await row.textContent(), /created/);

  // A session id in the search box finds its principal's sessions.
  await admin.fill('#principal', sid);
  await admin.click('#principal-form button[type="submit"]');
  await admin.waitForSelector(`#sessions tr:has-text("${sid}")`);
  await screenshot(admin, '7-admin-recent');
  // And the principal in the recent list opens them too.
  await admin.fill('#principal', '');
  await admin.click(`#recent button.link:has-text("${principal}")`);
  await admin.waitForFunction((p) => document.getElementById('principal')?.value === p, principal);
  await admin.waitForSelector(`#sessions tr:has-text("${sid}")`);
  assertNoErrors(admin, user);
  await userContext.close();
  await adminContext.close();
});
