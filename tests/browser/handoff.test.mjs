// 3. A second browser context (another device) redeems a handoff code and sees the same draft
//    on the same step; an edit on either device appears on the other. The first device sees
//    the second in its device list, active on that step.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, createHandoffCode, newPage, redeem, screenshot, startAsGuest, startForThisFile, userScope, visibleStep, waitForStatus, waitForValue,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

test('a handoff code moves the draft and its step to another device, and edits flow both ways', async () => {
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  const a = await newPage(laptop);
  const b = await newPage(phone);
  await startAsGuest(a, server);
  await a.fill('#name', 'Katherine Johnson');
  await a.selectOption('#country', 'us');
  await a.click('#next');
  await a.fill('#destination', 'Houston');
  await waitForStatus(a, 'Saved in the cloud');
  const code = await createHandoffCode(a);
  assert.match(code, /^[2-9A-HJ-NP-Z]{8}$/);
  await screenshot(a, '3-handoff-code');

  await redeem(b, server, code.toLowerCase());
  assert.equal(await userScope(b), await userScope(a), 'the same user on both devices');
  // A's last edits are debounced and may reach B after B synced: wait for them live.
  await waitForValue(b, '#destination', 'Houston');
  await waitForValue(b, '#name', 'Katherine Johnson');
  await waitForValue(b, '#country', 'us');
  assert.equal(await visibleStep(b), 2, 'the same step');

  await b.fill('#notes', 'Edited on the phone');
  await waitForValue(a, '#notes', 'Edited on the phone');
  await a.fill('#destination', 'Houston, TX');
  await waitForValue(b, '#destination', 'Houston, TX');

  // The laptop lists the phone as another device, active on step 2.
  const phoneSid = await b.evaluate(async () => (await (await fetch('/v1/me')).json()).session.sid);
  await a.waitForFunction(
    (sid) => document.querySelector(`#devices li[data-sid="${sid}"] .device-detail`)?.textContent === 'Active now · step 2',
    phoneSid,
  );
  await waitForStatus(a, 'Saved in the cloud');
  await waitForStatus(b, 'Saved in the cloud');
  await screenshot(a, '3-laptop-after-edits');
  await screenshot(b, '3-phone-after-edits');
  assertNoErrors(a, b);
  await laptop.close();
  await phone.close();
});

test('a used code is refused with the server\'s reason', async () => {
  const first = await browser.newContext();
  const second = await browser.newContext();
  const a = await newPage(first);
  const b = await newPage(second);
  await startAsGuest(a, server);
  const code = await createHandoffCode(a);
  await redeem(b, server, code);
  const third = await browser.newContext();
  const c = await newPage(third);
  await c.goto(server.url);
  await c.fill('#redeem-code', code);
  await c.click('#redeem-form button[type="submit"]');
  await c.waitForFunction(() => document.getElementById('redeem-error')?.textContent !== '');
  assert.match(await c.textContent('#redeem-error'), /not valid: it expired, was used, or was never issued/);
  assert.equal(await c.isVisible('#login'), true);
  // The refused redemption is a 404 the page handles; Chrome still logs the failed request.
  c.errors = c.errors.filter((line) => !/status of 404 .*\/v1\/handoff\/redeem/.test(line));
  assertNoErrors(a, b, c);
  await Promise.all([first.close(), second.close(), third.close()]);
});
