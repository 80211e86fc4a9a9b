// The save status a page shows, derived from the sync connection and the server's durability
// acks. Pure: `describe` turns counts into what a person reads.

/** Where the user's changes are. */
export type SaveState =
  /** Restoring the local copy; nothing to say yet. */
  | 'loading'
  /** In this browser (IndexedDB); sent to the server, not yet confirmed durable. */
  | 'local'
  /** Every change is durable at an edge (in its fsynced queue), some not yet in the cloud. */
  | 'edge'
  /** Every change is durable on the server (acknowledged after its store wrote it). */
  | 'cloud'
  /** No connection: `pending` changes are kept locally and will be sent on reconnect. */
  | 'offline'
  /** The session ended (revoked, expired, signed out): nothing more will sync. */
  | 'signed-out';

/** A status snapshot. */
export interface SaveStatus {
  state: SaveState;
  /** Local changes not yet confirmed durable by the server. */
  pending: number;
  /** The text to show. */
  label: string;
}

/** What the provider knows at one moment. */
export interface StatusInputs {
  loaded: boolean;
  connected: boolean;
  signedOut: boolean;
  /** Changes made while not connected, not yet covered by an ack. */
  waiting: number;
  /** Changes sent on this connection and not yet acked. */
  unacked: number;
  /** Changes an edge acknowledged (type 101) that the cloud has not (type 100). */
  atEdge: number;
  /** Whether the handshake (our answer to the server's sync step 1) is acked by the cloud. */
  handshakeDurable: boolean;
  /** Whether the handshake is acked by an edge (or the cloud). */
  handshakeAtEdge: boolean;
}

/** The status for `inputs`. */
export function describe(inputs: StatusInputs): SaveStatus {
  const pending = inputs.waiting + inputs.unacked;
  if (inputs.signedOut) return { state: 'signed-out', pending, label: 'Signed out — changes are no longer saved' };
  if (!inputs.loaded) return { state: 'loading', pending, label: 'Loading…' };
  if (!inputs.connected) {
    const label =
      pending === 0
        ? 'Offline — saved locally'
        : `Offline — ${pending} ${pending === 1 ? 'change' : 'changes'} waiting`;
    return { state: 'offline', pending, label };
  }
  const handshakeAtEdge = inputs.handshakeAtEdge || inputs.handshakeDurable;
  if (pending > 0 || !handshakeAtEdge) return { state: 'local', pending, label: 'Saved locally' };
  if (inputs.atEdge > 0 || !inputs.handshakeDurable) return { state: 'edge', pending, label: 'Saved at the edge' };
  return { state: 'cloud', pending, label: 'Saved in the cloud' };
}

/** A value that tells its listeners when it changes. */
export class Observable<T> {
  #value: T;
  #listeners = new Set<(value: T) => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get value(): T {
    return this.#value;
  }

  set(value: T, same: (a: T, b: T) => boolean = Object.is): void {
    if (same(this.#value, value)) return;
    this.#value = value;
    for (const listener of [...this.#listeners]) listener(value);
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#value);
    return () => this.#listeners.delete(listener);
  }
}
