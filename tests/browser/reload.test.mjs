// 1. Fill steps 1 and 2, reload: every field is restored and the step is kept.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope, visibleStep, waitForStatus,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('a reload restores steps 1 and 2 and keeps the step', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await startAsGuest(page, server);

  await page.fill('#name', 'Ada Lovelace');
  await page.fill('#email', 'ada@example.org');
  await page.selectOption('#country', 'fr');
  await page.click('#next');
  await page.fill('#destination', 'Lisbon');
  await page.check('input[name="class"][value="business"]');
  await page.fill('#notes', 'Window seat, please.\nArriving late.');
  assert.equal(await visibleStep(page), 2);
  await waitForStatus(page, 'Saved in the cloud');

  await page.reload();
  await page.waitForSelector('#app:not([hidden])');
  assert.equal(await visibleStep(page), 2, 'the step is kept');
  assert.equal(await page.inputValue('#destination'), 'Lisbon');
  assert.equal(await page.isChecked('input[name="class"][value="business"]'), true);
  assert.equal(await page.inputValue('#notes'), 'Window seat, please.\nArriving late.');
  assert.equal(await page.inputValue('#name'), 'Ada Lovelace');
  assert.equal(await page.inputValue('#email'), 'ada@example.org');
  assert.equal(await page.inputValue('#country'), 'fr');
  await waitForStatus(page, 'Saved in the cloud');
  await screenshot(page, '1-reload-restored');

  const doc = await server.docJson(await userScope(page), 'demo-trip');
  assert.deepEqual(doc.form, {
    name: 'Ada Lovelace', email: 'ada@example.org', country: 'fr',
    destination: 'Lisbon', class: 'business', notes: 'Window seat, please.\nArriving late.',
  });
  assert.equal(doc.wizard.step, 2);
  assertNoErrors(page);
  await context.close();
});
