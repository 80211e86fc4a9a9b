// Unit tests of the SDK's pure parts under Node (`node --test sdk/browser/test`): the text
// splice and caret mapping of form capture, and overwrite detection between two Yjs documents.
// The TypeScript sources are bundled with esbuild first (with the SDK's own yjs).

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'src');
const out = join(mkdtempSync(join(tmpdir(), 'continuum-sdk-test-')), 'pure.js');
// One bundle, so the tests and the SDK share one yjs.
await build({
  stdin: {
    contents: `export * as Y from 'yjs'; export * from './textdiff.ts'; export * from './overwrite.ts';`,
    resolveDir: src,
    loader: 'ts',
  },
  outfile: out,
  format: 'esm',
  bundle: true,
  platform: 'neutral',
  nodePaths: [join(here, '..', 'node_modules')],
  logLevel: 'error',
});
const { Y, diffText, mapPosition, watchOverwrites } = await import(pathToFileURL(out).href);

const apply = (text, splice) => (splice ? text.slice(0, splice.index) + splice.insert + text.slice(splice.index + splice.remove) : text);

test('diffText turns the old text into the new one with one splice at the caret', () => {
  const cases = [
    ['aab', 'ab', 1, 1], // Backspace after the second "a" deletes that one
    ['aab', 'ab', 0, 0], // Backspace after the first "a" deletes the first
    ['aa', 'aaa', 2, 1], // an "a" typed after the first "a" goes there
    ['hello', 'help!', 5, 3],
    ['', 'x', 1, 0],
    ['abc', '', 0, 0],
  ];
  for (const [before, after, caret, index] of cases) {
    const splice = diffText(before, after, caret);
    assert.equal(apply(before, splice), after, `${before} → ${after}`);
    assert.equal(splice.index, index, `${before} → ${after} at ${caret}`);
  }
  assert.equal(diffText('same', 'same', 2), null);
});

test('mapPosition moves a caret with the text around it, not with an insertion at it', () => {
  assert.equal(mapPosition([{ insert: 'xy' }], 3), 5, 'text inserted before the caret pushes it');
  assert.equal(mapPosition([{ insert: 'xy' }], 0), 0, 'text inserted at the caret goes after it');
  assert.equal(mapPosition([{ retain: 5 }, { insert: 'z' }], 3), 3, 'text after the caret leaves it');
  assert.equal(mapPosition([{ retain: 2 }, { delete: 3 }], 7), 4, 'a deletion before the caret pulls it');
  assert.equal(mapPosition([{ retain: 2 }, { delete: 3 }], 4), 2, 'a deletion around the caret puts it at the cut');
});

/** Two documents exchanging updates only when `sync()` is called (both offline until then). */
function pair() {
  const a = new Y.Doc();
  const b = new Y.Doc();
  const sync = () => {
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'remote');
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'remote');
  };
  return { a, b, sync };
}

test('a concurrent choice that replaced this document\'s is reported to the side that lost it', () => {
  const { a, b, sync } = pair();
  const seen = { a: [], b: [] };
  watchOverwrites(a.getMap('form'), (o) => seen.a.push(o));
  watchOverwrites(b.getMap('form'), (o) => seen.b.push(o));
  a.getMap('form').set('class', 'economy');
  sync();
  a.getMap('form').set('class', 'business');
  b.getMap('form').set('class', 'first');
  sync();
  const kept = a.getMap('form').get('class');
  assert.equal(b.getMap('form').get('class'), kept, 'both agree');
  const [loser, lost] = kept === 'first' ? ['a', 'business'] : ['b', 'first'];
  assert.deepEqual(seen[loser], [{ field: 'class', kept, lost }]);
  assert.deepEqual(seen[loser === 'a' ? 'b' : 'a'], [], 'the kept side is told nothing');
});

test('a change made after seeing this document\'s value is not an overwrite', () => {
  const { a, b, sync } = pair();
  const seen = [];
  watchOverwrites(a.getMap('form'), (o) => seen.push(o));
  a.getMap('form').set('seat', 'window');
  sync();
  b.getMap('form').set('seat', 'aisle');
  sync();
  assert.equal(a.getMap('form').get('seat'), 'aisle');
  assert.deepEqual(seen, []);
});
