// The save status from the provider's counts: "Saved at the edge" sits between "Saved locally"
// and "Saved in the cloud", from the edge's acks (type 101) and the cloud's (type 100).

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'continuum-status-test-')), 'status.js');
await build({ entryPoints: [join(here, '..', 'src', 'status.ts')], outfile: out, format: 'esm', bundle: true, logLevel: 'error' });
const { describe } = await import(pathToFileURL(out).href);

const connected = {
  loaded: true, connected: true, signedOut: false, waiting: 0, unacked: 0, atEdge: 0,
  handshakeDurable: false, handshakeAtEdge: false,
};

test('edge acks say "Saved at the edge", cloud acks "Saved in the cloud"', () => {
  const cases = [
    [{}, 'local', 'Saved locally'], // the handshake is not acked anywhere yet
    [{ handshakeAtEdge: true }, 'edge', 'Saved at the edge'],
    [{ handshakeAtEdge: true, atEdge: 2 }, 'edge', 'Saved at the edge'],
    [{ handshakeAtEdge: true, atEdge: 2, unacked: 1 }, 'local', 'Saved locally'], // one not even at the edge
    [{ handshakeDurable: true, atEdge: 1 }, 'edge', 'Saved at the edge'], // the cloud has the handshake, not that change
    [{ handshakeDurable: true }, 'cloud', 'Saved in the cloud'],
    [{ handshakeDurable: true, handshakeAtEdge: true }, 'cloud', 'Saved in the cloud'],
  ];
  for (const [inputs, state, label] of cases) {
    const status = describe({ ...connected, ...inputs });
    assert.equal(status.state, state, JSON.stringify(inputs));
    assert.equal(status.label, label, JSON.stringify(inputs));
  }
});

test('offline and signed out win over what the edge acknowledged', () => {
  assert.equal(describe({ ...connected, connected: false, atEdge: 3, handshakeAtEdge: true }).state, 'offline');
  assert.equal(describe({ ...connected, signedOut: true, handshakeAtEdge: true }).state, 'signed-out');
});
