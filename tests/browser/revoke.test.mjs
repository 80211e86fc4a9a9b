// 5. Revoking device B from device A's device list ends B's access: B's socket closes with
//    4401, B shows that it is signed out, and B's local copy of the draft is deleted.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  WAIT_MS, assertNoErrors, createHandoffCode, newPage, redeem, screenshot, startAsGuest, startForThisFile, waitForStatus, waitForValue, watchCloseCodes,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('signing out device B from device A closes B with 4401 and B shows it', async () => {
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  await watchCloseCodes(phone);
  const a = await newPage(laptop);
  const b = await newPage(phone);
  await startAsGuest(a, server);
  await a.fill('#name', 'Margaret Hamilton');
  await redeem(b, server, await createHandoffCode(a));
  // A's edit is debounced, so it may reach B after B synced: wait for it live.
  await waitForValue(b, '#name', 'Margaret Hamilton');

  const phoneSid = await b.evaluate(async () => (await (await fetch('/v1/me')).json()).session.sid);
  const revoke = `#devices li[data-sid="${phoneSid}"] button.danger`;
  await a.waitForSelector(revoke);
  await screenshot(a, '5-device-list');
  await a.click(revoke);

  await b.waitForSelector('#signed-out:not([hidden])');
  await waitForStatus(b, 'Signed out — changes are no longer saved');
  // Both of B's documents (the draft and its place in the form) closed with 4401.
  assert.deepEqual(await b.evaluate(() => window.__closeCodes), [4401, 4401]);
  await screenshot(b, '5-phone-signed-out');
  // The revoked device keeps no copy of the user's draft.
  // (Polled from here: waitForFunction does not wait for an async predicate's answer.)
  const drafts = () => b.evaluate(async () => (await indexedDB.databases()).map((db) => db.name).filter((name) => name?.includes('demo-')));
  const deadline = Date.now() + WAIT_MS;
  while ((await drafts()).length > 0 && Date.now() < deadline) await b.waitForTimeout(100);
  assert.deepEqual(await drafts(), []);
  // A's list no longer shows B; A itself is unaffected.
  await a.waitForSelector(revoke, { state: 'detached' });
  await waitForStatus(a, 'Saved in the cloud');
  const me = await b.evaluate(async () => (await fetch('/v1/me')).status);
  assert.equal(me, 401);
  b.errors = b.errors.filter((line) => !/status of 401 .*\/v1\/me/.test(line));
  assertNoErrors(a, b);
  await laptop.close();
  await phone.close();
});
