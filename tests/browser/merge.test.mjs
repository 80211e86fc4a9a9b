// 9. Text merges: two devices typing in one field at once both keep their characters, and two
//    devices editing the same notes offline end with both edits, the same on both and on the
//    server (text fields are Y.Text, merged character by character).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, caretAt, dropServerDownErrors, screenshot, settledValue, startForThisFile, twoDevices, userScope, waitForStatus, waitForValue,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

/** Both devices on step 2 with "base note" in the notes, in the cloud. */
async function onNotes(devices) {
  const { a, b } = devices;
  await a.click('#next');
  await b.click('#next');
  await a.fill('#notes', 'base note');
  await waitForValue(b, '#notes', 'base note');
  await waitForStatus(a, 'Saved in the cloud');
  await waitForStatus(b, 'Saved in the cloud');
}

test('two devices typing in one field at once both keep their characters', async () => {
  const devices = await twoDevices(browser, server);
  const { a, b } = devices;
  await onNotes(devices);
  await caretAt(a, '#notes', 'end');
  await caretAt(b, '#notes', 'start');
  // Interleaved keystrokes: each device types while the other's characters arrive.
  await Promise.all([a.keyboard.type(' typed on the laptop', { delay: 40 }), b.keyboard.type('Phone says: ', { delay: 40 })]);
  const merged = await settledValue('#notes', a, b);
  assert.equal(merged, 'Phone says: base note typed on the laptop');
  await waitForStatus(a, 'Saved in the cloud');
  await waitForStatus(b, 'Saved in the cloud');
  assert.equal((await server.docJson(await userScope(a), 'demo-trip')).form.notes, merged);
  // The caret stayed where each device was typing.
  assert.equal(await a.$eval('#notes', (field) => field.selectionStart), merged.length);
  assert.equal(await b.$eval('#notes', (field) => field.selectionStart), 'Phone says: '.length);
  await screenshot(a, '9-typing-at-once');
  assertNoErrors(a, b);
  await devices.close();
});

test('two devices editing the same notes offline end merged and identical', async () => {
  const devices = await twoDevices(browser, server);
  const { a, b, laptop, phone } = devices;
  await onNotes(devices);
  await laptop.setOffline(true);
  await phone.setOffline(true);
  await caretAt(a, '#notes', 'end');
  await a.keyboard.type(' + A');
  await caretAt(b, '#notes', 'start');
  await b.keyboard.type('B + ');
  await waitForValue(a, '#notes', 'base note + A');
  await waitForValue(b, '#notes', 'B + base note');
  await laptop.setOffline(false);
  await phone.setOffline(false);
  const merged = await settledValue('#notes', a, b);
  assert.equal(merged, 'B + base note + A');
  await waitForStatus(a, 'Saved in the cloud');
  await waitForStatus(b, 'Saved in the cloud');
  assert.equal((await server.docJson(await userScope(a), 'demo-trip')).form.notes, merged);
  await screenshot(b, '9-offline-merged');
  dropServerDownErrors(a, b);
  assertNoErrors(a, b);
  await devices.close();
});
