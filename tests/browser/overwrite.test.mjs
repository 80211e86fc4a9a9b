// 12. Overwrite notice: one device chooses a travel class offline, the other chooses another
//     one meanwhile; Yjs keeps one of the two. The device whose choice was replaced gets the
//     SDK's overwrite event (field, kept, lost) shown by the demo, and "Use …" takes the lost
//     value back on every device. The device whose choice was kept is told nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, dropServerDownErrors, screenshot, startForThisFile, twoDevices, userScope, waitForStatus,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test("a choice replaced by another device's concurrent choice raises the event and the notice", async () => {
  const devices = await twoDevices(browser, server);
  const { a, b, laptop } = devices;
  await a.click('#next');
  await b.click('#next');
  await a.check('input[name="class"][value="economy"]');
  await b.waitForFunction(() => document.querySelector('input[name="class"][value="economy"]')?.checked === true);
  await waitForStatus(a, 'Saved in the cloud');

  // Chrome's offline mode leaves an open socket half-open (frames may still leave): a first
  // change makes the SDK find the socket dead, so the choice after it is only in this browser.
  await laptop.setOffline(true);
  await a.fill('#destination', 'Lisbon');
  await waitForStatus(a, /^Offline — \d+ changes? waiting$/);
  await a.check('input[name="class"][value="business"]');
  await b.check('input[name="class"][value="first"]');
  await waitForStatus(b, 'Saved in the cloud');
  await laptop.setOffline(false);
  await waitForStatus(a, 'Saved in the cloud');

  const scope = await userScope(a);
  const kept = (await server.docJson(scope, 'demo-trip')).form.class;
  assert.ok(kept === 'business' || kept === 'first', `the server kept ${kept}`);
  const [loser, winner, lost] = kept === 'first' ? [a, b, 'business'] : [b, a, 'first'];
  const notice = await loser.waitForSelector('#overwrites [data-field="class"]');
  assert.equal(JSON.parse(await notice.getAttribute('data-kept')), kept);
  assert.equal(JSON.parse(await notice.getAttribute('data-lost')), lost);
  assert.match(await notice.textContent(), /Travel class: another device changed it to “(Business|First)” at the same time/);
  await loser.waitForFunction((value) => document.querySelector(`input[name="class"][value="${value}"]`)?.checked === true, kept);
  await screenshot(loser, '12-overwrite-notice');
  assert.equal(await winner.$$eval('#overwrites [data-field]', (items) => items.length), 0, 'the kept side is told nothing');

  // Take it back: the lost value is the value everywhere.
  await loser.click('#overwrites [data-field="class"] .take-back');
  await winner.waitForFunction((value) => document.querySelector(`input[name="class"][value="${value}"]`)?.checked === true, lost);
  await waitForStatus(loser, 'Saved in the cloud');
  assert.equal((await server.docJson(scope, 'demo-trip')).form.class, lost);
  assert.equal(await loser.$$eval('#overwrites [data-field]', (items) => items.length), 0);
  assert.equal(await winner.$$eval('#overwrites [data-field]', (items) => items.length), 0, 'a later change is not a conflict');
  dropServerDownErrors(a, b);
  assertNoErrors(a, b);
  await devices.close();
});
