// 15. The guest cookie and the local draft are tied: when the browser lost its session (a
//     cookie lost in a crash, or the session ended elsewhere), the next visit starts afresh and
//     the draft left in this browser is wiped, never shown to the next person at this computer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { WAIT_MS, assertNoErrors, newPage, startAsGuest, startForThisFile, waitForStatus } from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

const localCopies = (page) =>
  page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name).filter((name) => name?.startsWith('continuum:')));

test('a draft whose session cookie is gone is wiped on the next visit', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);
  await page.fill('#name', 'Left on a shared computer');
  await waitForStatus(page, 'Saved in the cloud');
  assert.ok((await localCopies(page)).length >= 1, 'the draft is kept in IndexedDB');

  // What a browser killed before it wrote its cookies to disk looks like on the next start.
  await context.clearCookies();
  await page.reload();
  await page.waitForSelector('#login:not([hidden])');
  // The wipe runs as the page learns the session is gone: wait for it, bounded.
  const deadline = Date.now() + WAIT_MS;
  while ((await localCopies(page)).length > 0 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.deepEqual(await localCopies(page), [], 'the stranded draft is wiped');
  await page.click('#start-guest');
  await waitForStatus(page, 'Saved in the cloud');
  assert.equal(await page.inputValue('#name'), '', 'the new guest starts with an empty form');
  // The reload's /v1/me is a 401 the page handles; Chrome still logs the failed request.
  page.errors = page.errors.filter((line) => !/status of 401 .*\/v1\/me/.test(line));
  assertNoErrors(page);
  await context.close();
});
