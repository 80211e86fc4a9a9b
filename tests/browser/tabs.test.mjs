// 4. Two tabs of one browser (one context) stay in sync, both ways.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, dropServerDownErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope, waitForStatus, waitForValue,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('two tabs of the same form stay in sync', async () => {
  const context = await browser.newContext();
  const first = await newPage(context);
  await startAsGuest(first, server);
  const second = await newPage(context);
  await second.goto(server.url);
  await second.waitForSelector('#app:not([hidden])');
  await waitForStatus(second, 'Saved in the cloud');

  await first.fill('#name', 'Typed in tab one');
  await waitForValue(second, '#name', 'Typed in tab one');
  await second.fill('#email', 'tab-two@example.org');
  await waitForValue(first, '#email', 'tab-two@example.org');
  // Moving on in one tab takes the other along while it has not navigated itself.
  await first.click('#next');
  await first.click('#next');
  await second.waitForSelector('#trip-form fieldset[data-step="3"]:not([hidden])');
  await second.check('#insurance');
  await first.waitForFunction(() => document.querySelector('#insurance')?.checked === true);
  await first.selectOption('#seat', 'aisle');
  await waitForValue(second, '#seat', 'aisle');
  assert.equal(await second.isChecked('#insurance'), true);

  await waitForStatus(first, 'Saved in the cloud');
  await waitForStatus(second, 'Saved in the cloud');
  await screenshot(second, '4-second-tab');
  assertNoErrors(first, second);
  await context.close();
});

test('tabs stay in sync while the server is down (BroadcastChannel)', async () => {
  const context = await browser.newContext();
  const first = await newPage(context);
  await startAsGuest(first, server);
  const second = await newPage(context);
  await second.goto(server.url);
  await waitForStatus(second, 'Saved in the cloud');
  await server.kill('SIGKILL');
  await waitForStatus(first, /^Offline/);
  await waitForStatus(second, /^Offline/);
  await first.fill('#name', 'Only between tabs');
  await waitForValue(second, '#name', 'Only between tabs');
  await server.restart();
  await waitForStatus(first, 'Saved in the cloud');
  await waitForStatus(second, 'Saved in the cloud');
  dropServerDownErrors(first, second);
  assert.equal((await server.docJson(await userScope(first), 'demo-trip')).form.name, 'Only between tabs');
  assertNoErrors(first, second);
  await context.close();
});
