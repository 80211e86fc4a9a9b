// How many changes were waiting for the server when the page went away, kept in localStorage
// beside the document's IndexedDB copy, so a page reloaded while offline still says
// "Offline — N changes waiting" instead of "saved locally" with nothing pending. The changes
// themselves are in IndexedDB; this is only their count. Storage that cannot be used (private
// modes, quota) makes the count start at 0 again, nothing worse.

/** The storage key of a document's pending count. */
export const pendingKey = (scope: string, name: string): string => `continuum:pending:${scope}/${name}`;

/** The count kept under `key`, or 0. */
export function readPending(key: string): number {
  try {
    const count = Number.parseInt(globalThis.localStorage?.getItem(key) ?? '', 10);
    return Number.isSafeInteger(count) && count > 0 ? count : 0;
  } catch {
    return 0;
  }
}

/** Keeps `count` under `key` (0 removes it). */
export function writePending(key: string, count: number): void {
  try {
    if (count > 0) globalThis.localStorage?.setItem(key, String(count));
    else globalThis.localStorage?.removeItem(key);
  } catch {
    // Not kept: a reload starts counting from 0.
  }
}
