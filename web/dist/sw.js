// The demo's service worker: keeps the app shell (the page, its script and stylesheet) so a
// reload works while the server or the network is down; the draft itself comes from the
// browser's IndexedDB copy and syncs when the server is back.
//
// Network first: while the server answers, the page is exactly what it serves (each answer
// also refreshes the copy kept here); only a failed fetch falls back to that copy. Nothing
// else is touched: API calls and sockets go to the network as if there were no worker.

const CACHE = 'continuum-demo-shell';
const SHELL = ['/', '/assets/demo.js', '/assets/style.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  // Control the page that registered the worker at once, not from its next load.
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
        }
        return response;
      })
      .catch(async () => {
        const kept = await caches.match(url.pathname, { cacheName: CACHE });
        if (kept) return kept;
        throw new Error(`${url.pathname} is not available offline`);
      }),
  );
});
