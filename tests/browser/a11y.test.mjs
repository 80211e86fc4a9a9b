// 14. Accessibility: axe (@axe-core/playwright) finds no serious or critical violation on the
//     demo (start screen, each step, a notice) and the admin page (sign-in, signed in), at
//     1280 px and 390 px wide; screenshots of each under target/e2e/14-*.png. At 390 px the
//     header fits (nothing cut off, "Sign out" visible).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import AxeBuilder from '@axe-core/playwright';

import { assertNoErrors, newPage, screenshot, startAsGuest, startForThisFile, userScope, waitForStatus } from './harness.mjs';

let server;
let browser;
startForThisFile((started) => ({ server, browser } = started));

const WIDTHS = [1280, 390];

/** Fails with every serious or critical axe violation on the page as it is now. */
async function assertAccessible(page, what) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  // The moderate and minor ones are fixed too (a heading one, named table headers): kept fixed.
  const lesser = violations.filter((violation) => !bad.includes(violation)).map((violation) => `${violation.id} (${violation.impact})`);
  assert.deepEqual(lesser, [], `${what}: lesser axe violations`);
  const described = bad.map(
    (violation) => `${violation.id} (${violation.impact}): ${violation.help}\n  ${violation.nodes.map((node) => node.target.join(' ')).join('\n  ')}`,
  );
  assert.deepEqual(described, [], `${what}: axe violations`);
}

/** Nothing in the header is wider than the page or cut off. */
async function assertHeaderFits(page, width) {
  const overflow = await page.evaluate(() => {
    const bar = document.querySelector('.bar');
    const cut = [...bar.querySelectorAll('*')]
      .filter((element) => element.offsetParent !== null)
      .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .map((element) => element.id || element.className);
    return { scroll: document.documentElement.scrollWidth, cut };
  });
  assert.deepEqual(overflow.cut, [], `header elements past the right edge at ${width} px`);
  assert.ok(overflow.scroll <= width, `the page scrolls sideways at ${width} px (${overflow.scroll} px wide)`);
}

for (const width of WIDTHS) {
  test(`the demo has no serious or critical axe violations at ${width} px`, async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await newPage(context);
    await page.goto(server.url);
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.isVisible('#status'), false, 'no save status before there is a draft');
    await assertAccessible(page, `start screen at ${width} px`);
    await screenshot(page, `14-demo-start-${width}`);

    await page.click('#start-guest');
    await waitForStatus(page, 'Saved in the cloud');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'focus moves into the form');
    await page.fill('#name', 'Grace Hopper');
    for (let step = 1; step <= 4; step += 1) {
      if (step === 2) {
        await page.check('input[name="class"][value="business"]');
        await page.fill('#notes', 'Line one\nLine two');
      }
      await assertAccessible(page, `step ${step} at ${width} px`);
      assert.equal(await page.getAttribute(`#step-list li[data-step="${step}"]`, 'aria-current'), 'step');
      if (step < 4) await page.click('#next');
    }
    await assertHeaderFits(page, width);
    assert.equal(await page.isVisible('#sign-out'), true);
    // Review: the class by its label, the notes on their lines.
    const review = await page.textContent('#summary');
    assert.match(review, /Travel classBusiness/);
    assert.equal(await page.$eval('#summary dd:nth-of-type(7)', (dd) => getComputedStyle(dd).whiteSpace), 'pre-wrap');
    await waitForStatus(page, 'Saved in the cloud');
    await screenshot(page, `14-demo-review-${width}`);
    assertNoErrors(page);
    await context.close();
  });

  test(`the admin page has no serious or critical axe violations at ${width} px`, async () => {
    // A signed-in guest, so the admin page has a live document and sessions to show.
    const guestContext = await browser.newContext();
    const guest = await newPage(guestContext);
    await startAsGuest(guest, server);
    const principal = (await userScope(guest)).slice('user:'.length);
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await newPage(context);
    await page.goto(`${server.url}/admin`);
    await assertAccessible(page, `admin sign-in at ${width} px`);
    await screenshot(page, `14-admin-key-${width}`);
    await page.fill('#api-key', server.apiKey());
    await page.click('#key-form button[type="submit"]');
    await page.waitForSelector('#admin-view:not([hidden])');
    await page.waitForSelector('#metrics dt');
    await page.click(`#live-docs button.link:has-text("${principal}")`);
    await page.waitForSelector('#sessions tr button.danger');
    await page.click('#sessions tr button.danger');
    await page.waitForSelector('#sessions tr button.cancel:not([hidden])');
    await assertAccessible(page, `admin at ${width} px`);
    await assertHeaderFits(page, width);
    await screenshot(page, `14-admin-${width}`);
    assertNoErrors(page, guest);
    await context.close();
    await guestContext.close();
  });
}
