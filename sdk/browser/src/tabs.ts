// TabSync: keeps the copies of one document in several tabs of this browser in step through a
// BroadcastChannel, so tabs agree at once, even offline.

import * as Y from 'yjs';

export class TabSync {
  readonly #doc: Y.Doc;
  readonly #channel: BroadcastChannel | null;
  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this) this.#channel?.postMessage({ kind: 'update', update });
  };

  constructor(doc: Y.Doc, name: string) {
    this.#doc = doc;
    this.#channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name);
    if (!this.#channel) return;
    this.#channel.onmessage = (event: MessageEvent) => {
      const message = event.data as { kind: string; update?: Uint8Array; vector?: Uint8Array };
      if (message.kind === 'update' && message.update) {
        Y.applyUpdate(this.#doc, message.update, this);
      } else if (message.kind === 'hello' && message.vector) {
        // A tab that just opened: send it what it lacks.
        const update = Y.encodeStateAsUpdate(this.#doc, message.vector);
        this.#channel?.postMessage({ kind: 'update', update });
      }
    };
    doc.on('update', this.#onUpdate);
    this.#channel.postMessage({ kind: 'hello', vector: Y.encodeStateVector(doc) });
  }

  /** Whether `origin` is this tab sync (a change that came from another tab). */
  isOrigin(origin: unknown): boolean {
    return origin === this;
  }

  destroy(): void {
    this.#doc.off('update', this.#onUpdate);
    this.#channel?.close();
  }
}
