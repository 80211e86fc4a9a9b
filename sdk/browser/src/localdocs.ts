// Which documents this browser keeps local copies of (IndexedDB databases and their pending
// counts), listed in localStorage, so they can be deleted without opening them: when the
// session they belong to is gone (signed out, revoked, or a cookie the browser lost), a copy
// nobody can sync any more is wiped rather than left on a possibly shared computer.

import { writePending } from './pending.js';

const LIST = 'continuum:local-docs';

/** One local copy: its IndexedDB database name and its pending-count key. */
export interface LocalDoc {
  database: string;
  pendingKey: string;
}

function read(): LocalDoc[] {
  try {
    const parsed: unknown = JSON.parse(globalThis.localStorage?.getItem(LIST) ?? '[]');
    return Array.isArray(parsed) ? (parsed as LocalDoc[]).filter((doc) => typeof doc?.database === 'string') : [];
  } catch {
    return [];
  }
}

function write(docs: LocalDoc[]): void {
  try {
    if (docs.length === 0) globalThis.localStorage?.removeItem(LIST);
    else globalThis.localStorage?.setItem(LIST, JSON.stringify(docs));
  } catch {
    // Not listed: such a copy is only deleted by a sign-out of the page that has it open.
  }
}

/** Lists a local copy (idempotent). */
export function rememberLocalDoc(doc: LocalDoc): void {
  const docs = read();
  if (!docs.some((known) => known.database === doc.database)) write([...docs, doc]);
}

/** Deletes every listed local copy and the list. */
export async function wipeLocalDocs(): Promise<void> {
  const docs = read();
  write([]);
  await Promise.all(
    docs.map(
      (doc) =>
        new Promise<void>((resolve) => {
          writePending(doc.pendingKey, 0);
          if (typeof indexedDB === 'undefined') return resolve();
          const request = indexedDB.deleteDatabase(doc.database);
          request.onsuccess = request.onerror = request.onblocked = () => resolve();
        }),
    ),
  );
}
