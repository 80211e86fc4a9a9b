// The active process: "Prepare the PDF" starts a server task whose progress the backend writes
// into the document (the code path of PATCH /v1/docs); every device sees it live, and a reload
// still shows it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertNoErrors, createHandoffCode, newPage, redeem, screenshot, startAsGuest, startForThisFile, userScope,
} from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

/** The task's progress as the page shows it, sampled until it reads done. */
async function progressSeen(page) {
  const seen = new Set();
  await page.waitForFunction(() => document.getElementById('task')?.dataset.state === 'running');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = await page.textContent('#task-text');
    const match = /(\d+)%/.exec(text);
    if (match) seen.add(Number(match[1]));
    if ((await page.getAttribute('#task', 'data-state')) === 'done') return seen;
    await page.waitForTimeout(50);
  }
  throw new Error(`the task did not finish; saw ${[...seen]}`);
}

test('the PDF task reports its progress live on every device and survives a reload', async () => {
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  const a = await newPage(laptop);
  const b = await newPage(phone);
  await startAsGuest(a, server);
  await a.fill('#name', 'Hedy Lamarr');
  await redeem(b, server, await createHandoffCode(a));
  for (let i = 0; i < 3; i += 1) await a.click('#next');
  await a.click('#prepare-pdf');
  const [onA, onB] = await Promise.all([progressSeen(a), progressSeen(b)]);
  assert.ok([...onB].some((p) => p > 0 && p < 100), `the phone saw intermediate progress: ${[...onB]}`);
  assert.ok([...onA].some((p) => p > 0 && p < 100), `the laptop saw intermediate progress: ${[...onA]}`);
  assert.equal(await b.textContent('#task-text'), 'Your PDF is ready (3 pages).');
  await screenshot(b, '6-task-done-on-phone');

  await b.reload();
  await b.waitForFunction(() => document.getElementById('task')?.dataset.state === 'done');
  const doc = await server.docJson(await userScope(a), 'demo-trip');
  assert.equal(doc.task.state, 'done');
  assert.equal(doc.task.progress, 100);

  assertNoErrors(a, b);
  await laptop.close();
  await phone.close();
});
