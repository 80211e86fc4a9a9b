// ContinuumDoc: one continuity document in the browser — a Yjs document restored from
// IndexedDB before the network answers, kept in step with other tabs and synced with the
// server, with the save status and presence.

import { IndexeddbPersistence } from 'y-indexeddb';
import { Awareness, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';

import type { BackoffOptions } from './backoff.js';
import { rememberLocalDoc } from './localdocs.js';
import { pendingKey, readPending, writePending } from './pending.js';
import { Presence, type PresenceDevice } from './presence.js';
import { SyncProvider } from './provider.js';
import { type SaveStatus, Observable, describe } from './status.js';
import { TabSync } from './tabs.js';

/** How to open a document. */
export interface DocOptions {
  /** `user:<principal>` or `session:<sid>`. */
  scope: string;
  name: string;
  /** The server's origin, e.g. `https://app.example`. */
  baseUrl: string;
  /** This device, for presence. */
  device: PresenceDevice;
  backoff?: BackoffOptions;
  /** How long a change may wait for the server's ack before the socket counts as dead. */
  ackTimeoutMs?: number;
  /** Called when the server ends the session. */
  onSignedOut(): void;
  /** Whether the session is still valid (false), or unknown (undefined: offline). */
  checkSession(): Promise<boolean | undefined>;
}

const sameStatus = (a: SaveStatus, b: SaveStatus): boolean =>
  a.state === b.state && a.pending === b.pending && a.label === b.label;

export class ContinuumDoc {
  /** The Yjs document: read and write it with the Yjs API. */
  readonly doc = new Y.Doc();
  readonly awareness: Awareness;
  readonly scope: string;
  readonly name: string;
  /** Where the user's changes are; subscribe to show it. */
  readonly status: Observable<SaveStatus>;
  /** Resolves once the local copy (IndexedDB) is restored; before the network answers. */
  readonly ready: Promise<void>;
  /** Resolves the first time this copy has everything the server had (its sync step 2
   *  arrived); never while offline. */
  readonly synced: Promise<void>;
  /** Who else has this document open. */
  readonly presence: Presence;
  /** Set when the server refused the document for good (too large, malformed). */
  fatal: string | null = null;
  readonly #local: IndexeddbPersistence;
  readonly #tabs: TabSync;
  readonly #provider: SyncProvider;
  readonly #flushers = new Set<() => void>();
  /** Where the count of changes waiting for the server is kept across reloads. */
  readonly #pendingKey: string;
  #loaded = false;
  readonly #onHide = (): void => {
    if (document.visibilityState === 'hidden') this.flush();
  };
  readonly #onPageHide = (): void => this.flush();

  constructor(options: DocOptions) {
    this.scope = options.scope;
    this.name = options.name;
    const channel = `continuum:${options.scope}/${options.name}`;
    this.#pendingKey = pendingKey(options.scope, options.name);
    this.awareness = new Awareness(this.doc);
    this.status = new Observable<SaveStatus>(describe({
      loaded: false, connected: false, signedOut: false, waiting: 0, unacked: 0, atEdge: 0, handshakeDurable: false,
      handshakeAtEdge: false,
    }));
    rememberLocalDoc({ database: channel, pendingKey: this.#pendingKey });
    this.#local = new IndexeddbPersistence(channel, this.doc);
    this.#tabs = new TabSync(this.doc, channel);
    const url = new URL(
      `/v1/sync/${encodeURIComponent(options.scope)}/${encodeURIComponent(options.name)}?acks=1`,
      options.baseUrl,
    );
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let synced: () => void = () => undefined;
    this.synced = new Promise((resolve) => (synced = resolve));
    this.#provider = new SyncProvider(
      this.doc,
      this.awareness,
      url.toString(),
      {
        onChange: () => this.#refresh(),
        onSignedOut: options.onSignedOut,
        onFatal: (code, reason) => {
          this.fatal = `the server closed the document (${code}): ${reason}`;
          this.#refresh();
        },
        checkSession: options.checkSession,
        onSynced: () => synced(),
      },
      {
        backoff: options.backoff,
        uncounted: new Set([this.#local]),
        waitingAtStart: readPending(this.#pendingKey),
        ackTimeoutMs: options.ackTimeoutMs,
      },
    );
    this.presence = new Presence(this.awareness, options.device);
    this.ready = this.#local.whenSynced.then(() => {
      this.#loaded = true;
      this.#refresh();
    });
    // Connect after the local copy is in, so the handshake sends only what the server lacks.
    void this.ready.then(() => this.#provider.connect());
    window.addEventListener('visibilitychange', this.#onHide);
    window.addEventListener('pagehide', this.#onPageHide);
  }

  /** A root map of the document. */
  map<T = unknown>(name: string): Y.Map<T> {
    return this.doc.getMap<T>(name);
  }

  /** Whether a socket to the server is open. */
  get online(): boolean {
    return this.#provider.connected;
  }

  /** Registers work to do before the page goes away (a form's debounced edits). */
  onFlush(flush: () => void): () => void {
    this.#flushers.add(flush);
    return () => this.#flushers.delete(flush);
  }

  /** Writes every debounced edit into the document now (and so to IndexedDB and the server). */
  flush(): void {
    for (const flush of this.#flushers) flush();
  }

  /** Reconnects now instead of waiting for the next retry. */
  reconnect(): void {
    this.#provider.reconnectNow();
  }

  /** Deletes this document's local copy (on sign-out, so a shared computer keeps nothing). */
  async clearLocal(): Promise<void> {
    writePending(this.#pendingKey, 0);
    await this.#local.clearData();
  }

  /** Stops syncing; the local copy stays. */
  destroy(): void {
    this.flush();
    window.removeEventListener('visibilitychange', this.#onHide);
    window.removeEventListener('pagehide', this.#onPageHide);
    removeAwarenessStates(this.awareness, [this.doc.clientID], 'destroy');
    this.presence.destroy();
    this.#provider.destroy();
    this.#tabs.destroy();
    void this.#local.destroy();
  }

  #refresh(): void {
    const before = this.status.value.pending;
    this.status.set(describe({ loaded: this.#loaded, ...this.#provider.inputs() }), sameStatus);
    // Kept once the local copy is in, so a count restored at start is not overwritten before.
    if (this.#loaded && this.status.value.pending !== before) writePending(this.#pendingKey, this.status.value.pending);
  }
}
