// SyncProvider: one document's y-websocket connection to a Continuum server, with durability
// acks, reconnects with backoff and jitter, and the counts the save status is made of.
//
// A socket is only as alive as its acks: every change sent (and the handshake) must be acked
// within `ackTimeoutMs`, a socket must open within it, and the server's sync step 2 must
// arrive within it; otherwise the socket is treated as dead (a half-open connection, a
// stopped server, a proxy that stopped forwarding), dropped, and reopened. So the status
// never says "saved" about a socket that no longer carries anything.
//
// Written on y-protocols instead of the stock WebsocketProvider because that one ignores
// unknown message types, and the ack (type 100) is what tells "saved locally" from "saved in
// the cloud".

import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import type * as Y from 'yjs';

import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import {
  CLOSE_MALFORMED,
  CLOSE_SIGNED_OUT,
  CLOSE_TOO_LARGE,
  MESSAGE_ACK,
  MESSAGE_ACK_EDGE,
  MESSAGE_AWARENESS,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SYNC,
} from './protocol.js';
import type { StatusInputs } from './status.js';

/** What the provider reports to its owner. */
export interface ProviderEvents {
  /** Any input of the save status changed. */
  onChange(): void;
  /** The server ended the session (close 4401, or 401 on a reconnect). */
  onSignedOut(): void;
  /** The server refused the document for good (too large, malformed). */
  onFatal(code: number, reason: string): void;
  /** The server's sync step 2 arrived: this copy has everything the server had. */
  onSynced?(): void;
  /** Asked before each reconnect whether the session is still valid; false means signed out. */
  checkSession(): Promise<boolean | undefined>;
}

export interface ProviderOptions {
  backoff?: BackoffOptions;
  /** Origins whose updates are already saved elsewhere (the IndexedDB load): sent, but not
   *  counted as changes waiting while offline. */
  uncounted?: ReadonlySet<unknown>;
  /** Changes an earlier page left waiting (restored with the local copy): they count as waiting
   *  until the first handshake is acked. */
  waitingAtStart?: number;
  /** How long a change may wait for its ack, a socket for its opening and the handshake for
   *  the server's answer before the socket counts as dead (default 3000 ms). */
  ackTimeoutMs?: number;
}

/** The default of {@link ProviderOptions.ackTimeoutMs}. */
export const DEFAULT_ACK_TIMEOUT_MS = 3000;

export class SyncProvider {
  readonly #doc: Y.Doc;
  readonly #awareness: awarenessProtocol.Awareness;
  readonly #url: string;
  readonly #events: ProviderEvents;
  readonly #backoff: BackoffOptions;
  readonly #uncounted: ReadonlySet<unknown>;
  readonly #ackTimeoutMs: number;
  #socket: WebSocket | null = null;
  /** Whether the current socket opened. */
  #opened = false;
  /** When the current socket was created, and when it opened (ms, `Date.now()`). */
  #createdAt = 0;
  #openedAt = 0;
  /** Content messages sent on this connection and not yet acked, with when they were sent. */
  #outstanding: Array<{ seq: number; at: number }> = [];
  /** The watchdog that drops a socket whose acks are late. */
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #connected = false;
  #signedOut = false;
  /** Content-bearing messages (updates, sync step 2) sent on this connection. */
  #sent = 0;
  /** The highest ack received on this connection. */
  #acked = 0;
  /** Message numbers of changes sent on this connection and not yet acked. */
  #unacked: number[] = [];
  /** The highest edge ack (type 101) received on this connection. */
  #edgeAcked = 0;
  /** Message numbers of changes an edge acked and the cloud has not. */
  #atEdge: number[] = [];
  /** Changes made while not connected; the next handshake's step 2 carries them. */
  #waiting = 0;
  /** The number of our step 2 message on this connection (0: not sent yet). */
  #handshakeSeq = 0;
  /** Changes folded into this connection's handshake, cleared when it is acked. */
  #handshakeWaiting = 0;
  /** Whether the server's step 2 arrived: we have everything it had. */
  #serverSynced = false;
  readonly #onUpdate: (update: Uint8Array, origin: unknown) => void;
  readonly #onAwareness: (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;
  readonly #onOnline = (): void => this.reconnectNow();

  constructor(doc: Y.Doc, awareness: awarenessProtocol.Awareness, url: string, events: ProviderEvents, options: ProviderOptions = {}) {
    this.#doc = doc;
    this.#awareness = awareness;
    this.#url = url;
    this.#events = events;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#uncounted = options.uncounted ?? new Set();
    this.#waiting = options.waitingAtStart ?? 0;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.#onUpdate = (update, origin) => {
      if (origin === this) return;
      if (!this.#connected) {
        if (this.#uncounted.has(origin)) return;
        this.#waiting += 1;
        this.#events.onChange();
        return;
      }
      this.#send((encoder) => syncProtocol.writeUpdate(encoder, update), true);
      this.#unacked.push(this.#sent);
      this.#outstanding.push({ seq: this.#sent, at: Date.now() });
      if (this.#outstanding.length === 1) this.#arm();
      this.#events.onChange();
    };
    this.#onAwareness = ({ added, updated, removed }, origin) => {
      if (origin === this || !this.#connected) return;
      const changed = added.concat(updated, removed);
      this.#send((encoder) => {
        encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
        encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.#awareness, changed));
      }, false, true);
    };
    doc.on('update', this.#onUpdate);
    awareness.on('update', this.#onAwareness);
    if (typeof window !== 'undefined') window.addEventListener('online', this.#onOnline);
  }

  /** The counts the save status is made of. */
  inputs(): Omit<StatusInputs, 'loaded'> {
    return {
      connected: this.#connected,
      signedOut: this.#signedOut,
      waiting: this.#waiting + this.#handshakeWaiting,
      unacked: this.#unacked.length,
      atEdge: this.#atEdge.length,
      handshakeDurable: this.#handshakeSeq > 0 && this.#acked >= this.#handshakeSeq && this.#serverSynced,
      handshakeAtEdge: this.#handshakeSeq > 0 && this.#edgeAcked >= this.#handshakeSeq && this.#serverSynced,
    };
  }

  /** Whether a socket is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Opens the socket (and keeps reopening it until `destroy`). */
  connect(): void {
    if (this.#stopped || this.#socket) return;
    const socket = new WebSocket(this.#url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#opened = false;
    this.#createdAt = Date.now();
    this.#outstanding = [];
    this.#arm();
    socket.onopen = () => {
      this.#opened = true;
      this.#openedAt = Date.now();
      this.#attempt = 0;
      this.#connected = true;
      this.#sent = 0;
      this.#acked = 0;
      this.#unacked = [];
      this.#edgeAcked = 0;
      this.#atEdge = [];
      this.#handshakeSeq = 0;
      this.#serverSynced = false;
      this.#arm();
      this.#send((encoder) => {
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        syncProtocol.writeSyncStep1(encoder, this.#doc);
      }, false, true);
      if (this.#awareness.getLocalState() !== null) {
        this.#send((encoder) => {
          encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
          encoding.writeVarUint8Array(
            encoder,
            awarenessProtocol.encodeAwarenessUpdate(this.#awareness, [this.#doc.clientID]),
          );
        }, false, true);
      }
      this.#events.onChange();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (event.data instanceof ArrayBuffer) this.#receive(new Uint8Array(event.data));
    };
    socket.onclose = (event: CloseEvent) => this.#closed(event.code, event.reason);
  }

  /** The socket ended (closed by either side, or dropped as dead): count what was not acked as
   *  waiting, and reconnect unless the end is final. */
  #closed(code: number, reason: string): void {
    const opened = this.#opened;
    const wasConnected = this.#connected;
    this.#socket = null;
    this.#opened = false;
    this.#outstanding = [];
    this.#arm();
    this.#connected = false;
    // Whatever was not acked is waiting again; the next handshake's step 2 carries it.
    // Changes at an edge are durable there: they are not waiting again.
    this.#waiting += this.#unacked.length + this.#handshakeWaiting;
    this.#unacked = [];
    this.#atEdge = [];
    this.#handshakeWaiting = 0;
    this.#handshakeSeq = 0;
    const others = [...this.#awareness.getStates().keys()].filter((id) => id !== this.#doc.clientID);
    awarenessProtocol.removeAwarenessStates(this.#awareness, others, this);
    if (wasConnected || opened) this.#events.onChange();
    if (code === CLOSE_SIGNED_OUT) return this.#endSignedOut();
    if (code === CLOSE_TOO_LARGE || code === CLOSE_MALFORMED) {
      this.#stopped = true;
      this.#events.onFatal(code, reason);
      return;
    }
    this.#scheduleReconnect(!opened);
  }

  /** When the current socket must have shown a sign of life, or `null` when it owes nothing:
   *  its opening, the server's sync step 2, or the ack of the oldest change in flight. */
  #deadline(): number | null {
    if (!this.#socket) return null;
    if (!this.#opened) return this.#createdAt + this.#ackTimeoutMs;
    const owed = [...this.#outstanding.map((sent) => sent.at), ...(this.#serverSynced ? [] : [this.#openedAt])];
    return owed.length === 0 ? null : Math.min(...owed) + this.#ackTimeoutMs;
  }

  /** (Re)sets the watchdog for the current deadline. */
  #arm(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = null;
    const deadline = this.#deadline();
    if (deadline === null || this.#stopped) return;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = null;
      const due = this.#deadline();
      if (due !== null && Date.now() >= due) this.#drop();
      else this.#arm();
    }, Math.max(0, deadline - Date.now()) + 10);
  }

  /** Drops a socket that missed its deadline: it is closed without waiting for the other side
   *  (which may never answer) and handled as closed now. */
  #drop(): void {
    const socket = this.#socket;
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(1000, 'no answer in time');
    } catch {
      // Closing a socket that never opened can throw in some browsers; it is dropped anyway.
    }
    this.#closed(1006, 'no answer in time');
  }

  /** Reconnects at once if waiting for a retry (the browser came back online). */
  reconnectNow(): void {
    if (this.#stopped || this.#socket) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.connect();
  }

  /** Closes the socket for good and stops listening to the document. */
  destroy(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#doc.off('update', this.#onUpdate);
    this.#awareness.off('update', this.#onAwareness);
    if (typeof window !== 'undefined') window.removeEventListener('online', this.#onOnline);
    this.#socket?.close(1000, 'closed by the page');
    this.#socket = null;
    this.#connected = false;
  }

  #endSignedOut(): void {
    this.#stopped = true;
    this.#signedOut = true;
    this.#events.onChange();
    this.#events.onSignedOut();
  }

  #scheduleReconnect(neverOpened: boolean): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt, this.#backoff);
    this.#attempt += 1;
    this.#timer = setTimeout(async () => {
      this.#timer = null;
      // A socket refused before opening may mean the session ended: the upgrade's 401 is not
      // visible to page scripts, so ask the client plane.
      // The question is bounded like the socket: a stopped server would never answer it.
      const answer = neverOpened
        ? await Promise.race([
            this.#events.checkSession(),
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), this.#ackTimeoutMs)),
          ])
        : undefined;
      if (answer === false) return this.#endSignedOut();
      if (this.#stopped) return;
      this.connect();
    }, delay);
  }

  #receive(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data);
    const encoder = encoding.createEncoder();
    const type = decoding.readVarUint(decoder);
    switch (type) {
      case MESSAGE_SYNC: {
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        const kind = syncProtocol.readSyncMessage(decoder, encoder, this.#doc, this);
        if (kind === syncProtocol.messageYjsSyncStep1) {
          // Our step 2: everything the server lacks, including changes made while offline.
          this.#socketSend(encoding.toUint8Array(encoder));
          this.#sent += 1;
          this.#handshakeSeq = this.#sent;
          this.#handshakeWaiting += this.#waiting;
          this.#waiting = 0;
          this.#outstanding.push({ seq: this.#sent, at: Date.now() });
          this.#arm();
        } else if (kind === syncProtocol.messageYjsSyncStep2) {
          this.#serverSynced = true;
          this.#arm();
          this.#events.onSynced?.();
        }
        this.#events.onChange();
        break;
      }
      case MESSAGE_AWARENESS:
        awarenessProtocol.applyAwarenessUpdate(this.#awareness, decoding.readVarUint8Array(decoder), this);
        break;
      case MESSAGE_QUERY_AWARENESS:
        this.#send((out) => {
          encoding.writeVarUint(out, MESSAGE_AWARENESS);
          encoding.writeVarUint8Array(
            out,
            awarenessProtocol.encodeAwarenessUpdate(this.#awareness, [...this.#awareness.getStates().keys()]),
          );
        }, false, true);
        break;
      case MESSAGE_ACK: {
        const acked = decoding.readVarUint(decoder);
        if (acked <= this.#acked) break;
        this.#acked = acked;
        this.#unacked = this.#unacked.filter((seq) => seq > acked);
        this.#atEdge = this.#atEdge.filter((seq) => seq > acked);
        this.#outstanding = this.#outstanding.filter((sent) => sent.seq > acked);
        this.#arm();
        if (this.#handshakeSeq > 0 && acked >= this.#handshakeSeq) this.#handshakeWaiting = 0;
        this.#events.onChange();
        break;
      }
      case MESSAGE_ACK_EDGE: {
        // Durable at the edge: the socket is alive and nothing is waiting in this browser, but
        // the cloud has not said so yet.
        const acked = decoding.readVarUint(decoder);
        if (acked <= this.#edgeAcked) break;
        this.#edgeAcked = acked;
        this.#atEdge.push(...this.#unacked.filter((seq) => seq <= acked && seq > this.#acked));
        this.#unacked = this.#unacked.filter((seq) => seq > acked);
        this.#outstanding = this.#outstanding.filter((sent) => sent.seq > acked);
        this.#arm();
        if (this.#handshakeSeq > 0 && acked >= this.#handshakeSeq) this.#handshakeWaiting = 0;
        this.#events.onChange();
        break;
      }
      default:
        // Unknown types are ignored, as y-websocket does.
        break;
    }
  }

  /** Sends one message; `content` counts it as content-bearing (sync update). */
  #send(write: (encoder: encoding.Encoder) => void, content: boolean, raw = false): void {
    const encoder = encoding.createEncoder();
    if (!raw) encoding.writeVarUint(encoder, MESSAGE_SYNC);
    write(encoder);
    this.#socketSend(encoding.toUint8Array(encoder));
    if (content) this.#sent += 1;
  }

  #socketSend(bytes: Uint8Array): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(bytes);
  }
}
