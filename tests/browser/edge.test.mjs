// The demo through an edge: `continuum edge --demo` in front of `continuum serve --demo`. The
// page's changes are acknowledged by the edge from its durable queue (type-101 acks) and, once
// replayed, by the cloud: with the origin up the status reads "Saved in the cloud"; while it
// is stopped (SIGSTOP: it answers nothing, as in an outage) "Saved at the edge"; when the
// origin resumes, the edge's replay brings
// every change to it, and the status becomes "Saved in the cloud" (the edge's cloud acks follow
// the origin's replay mark).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  BINARY, Server, WAIT_MS, assertNoErrors, freePort, launch, newPage, screenshot, userScope, waitForStatus,
} from './harness.mjs';

/** A `continuum edge --demo` process in front of `origin`. */
class Edge {
  static async start(origin) {
    const edge = new Edge();
    edge.data = mkdtempSync(join(tmpdir(), 'continuum-e2e-edge-'));
    edge.url = `http://127.0.0.1:${await freePort()}`;
    edge.log = '';
    edge.child = spawn(
      BINARY,
      ['edge', '--dev', '--demo', '--listen', edge.url.slice('http://'.length), '--origin', origin.url, '--data', edge.data],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONTINUUM_LOG: 'warn', CONTINUUM_ORIGIN_API_KEY: origin.apiKey() } },
    );
    edge.child.stdout.on('data', (chunk) => (edge.log += chunk));
    edge.child.stderr.on('data', (chunk) => (edge.log += chunk));
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (edge.child.exitCode !== null) throw new Error(`the edge exited:\n${edge.log}`);
      try {
        if ((await fetch(`${edge.url}/readyz`)).ok) return edge;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the edge did not become ready:\n${edge.log}`);
  }

  async stop() {
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
    rmSync(this.data, { recursive: true, force: true });
  }
}

let origin;
let edge;
let browser;
before(async () => {
  origin = await Server.start();
  edge = await Edge.start(origin);
  browser = await launch();
});
after(async () => {
  origin?.child?.kill('SIGCONT');
  await browser?.close();
  await edge?.stop();
  await origin?.stop();
});

test('through an edge: "Saved at the edge", origin up or stopped; origin back → "Saved in the cloud"', async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  await page.goto(edge.url);
  await page.click('#start-guest');
  await page.waitForSelector('#app:not([hidden])');
  // With the origin up the edge replays at once, and its cloud acks follow its edge acks.
  await waitForStatus(page, 'Saved in the cloud');
  const scope = await userScope(page);
  await page.fill('#name', 'Ada Lovelace');
  await waitForStatus(page, 'Saved in the cloud');
  await screenshot(page, 'edge-1-in-the-cloud-through-the-edge');

  origin.child.kill('SIGSTOP');
  await page.fill('#email', 'ada@example.org');
  await page.selectOption('#country', 'us');
  await waitForStatus(page, 'Saved at the edge');
  // Past the edge's cap (5 s): the open socket of a known session stays, its changes are queued.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  await page.fill('#name', 'Ada King');
  await waitForStatus(page, 'Saved at the edge');
  await screenshot(page, 'edge-2-origin-stopped');

  origin.child.kill('SIGCONT');
  const deadline = Date.now() + WAIT_MS;
  let form;
  while (Date.now() < deadline) {
    form = (await origin.docJson(scope, 'demo-trip')).form ?? {};
    if (form.name === 'Ada King' && form.email === 'ada@example.org' && form.country === 'us') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual({ name: form.name, email: form.email, country: form.country }, {
    name: 'Ada King', email: 'ada@example.org', country: 'us',
  }, 'the edge replayed every change to the origin');
  await waitForStatus(page, 'Saved in the cloud');
  await screenshot(page, 'edge-3-back-in-the-cloud');
  assertNoErrors(page);
  await context.close();
});
