// Builds the SDK bundle (dist/continuum.js) and the pages the server embeds (../../web/dist:
// the demo app and the admin page). `--size` prints the gzip size of the SDK bundle with yjs.
// The output is deterministic, so scripts/test.sh can fail when the committed web/dist is stale.

import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '..', '..', 'web');
const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  legalComments: 'none',
  logLevel: 'warning',
  // The pages import the SDK's dependencies from here.
  nodePaths: [join(here, 'node_modules')],
};

await build({ ...common, entryPoints: [join(here, 'src', 'index.ts')], outfile: join(here, 'dist', 'continuum.js') });
await build({
  ...common,
  entryPoints: { demo: join(web, 'src', 'demo.ts'), admin: join(web, 'src', 'admin.ts') },
  outdir: join(web, 'dist'),
});
mkdirSync(join(web, 'dist'), { recursive: true });
for (const file of readdirSync(join(web, 'src'))) {
  // Pages, styles and the demo's service worker (plain JavaScript, served as written).
  if (file.endsWith('.html') || file.endsWith('.css') || file === 'sw.js') {
    copyFileSync(join(web, 'src', file), join(web, 'dist', file));
  }
}

if (process.argv.includes('--size')) {
  for (const file of [join(here, 'dist', 'continuum.js'), join(web, 'dist', 'demo.js'), join(web, 'dist', 'admin.js')]) {
    const bytes = readFileSync(file);
    const gzip = gzipSync(bytes, { level: 9 }).length;
    console.log(`${file.replace(join(here, '..', '..') + '/', '')}: ${(bytes.length / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`);
  }
}
