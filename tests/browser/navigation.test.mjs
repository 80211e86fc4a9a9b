// 10. Navigation is per device: another device's Next does not move this page or take its
//     focus; its position is only offered ("… is on step 2 — continue there?"), and taking the
//     offer moves this device. A reload keeps this device's own step.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertNoErrors, screenshot, startForThisFile, twoDevices, visibleStep, waitForStatus } from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test("another device's Next does not move this page or take its focus", async () => {
  const devices = await twoDevices(browser, server);
  const { a, b } = devices;
  assert.equal(await visibleStep(a), 1);
  assert.equal(await visibleStep(b), 1);
  await a.click('#name');
  await a.keyboard.type('Typing on laptop');
  await b.click('#next');
  assert.equal(await visibleStep(b), 2);
  // The laptop is offered the phone's step, and stays where it is meanwhile.
  await a.waitForSelector('#continue-banner:not([hidden])');
  assert.match(await a.textContent('#continue-text'), /is on step 2 — continue there\?/);
  await a.keyboard.type(' while phone moves on');
  assert.equal(await visibleStep(a), 1);
  assert.equal(await a.evaluate(() => document.activeElement?.id), 'name');
  assert.equal(await a.inputValue('#name'), 'Typing on laptop while phone moves on');
  await screenshot(a, '10-offered-not-moved');

  // A reload keeps this device's own step, not the phone's.
  await waitForStatus(a, 'Saved in the cloud');
  await a.reload();
  await waitForStatus(a, 'Saved in the cloud');
  assert.equal(await visibleStep(a), 1);

  // Taking the offer moves this device, and only it.
  await a.waitForSelector('#continue-banner:not([hidden])');
  await a.click('#continue-button');
  assert.equal(await visibleStep(a), 2);
  await b.click('#back');
  await a.waitForSelector('#continue-banner:not([hidden])');
  assert.equal(await visibleStep(a), 2);
  assertNoErrors(a, b);
  await devices.close();
});
