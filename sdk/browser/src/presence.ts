// Presence: which of the user's devices have the document open and where they are (route,
// step), carried by Yjs awareness, and the "continue where you left off" offer.

import type { Awareness } from 'y-protocols/awareness';

/** The device a presence state comes from. */
export interface PresenceDevice {
  /** The session id: one per device. */
  sid: string;
  /** A name a person recognises ("Chrome on Linux"). */
  name: string;
}

/** What a device announces. */
export interface PresenceState {
  device: PresenceDevice;
  route?: string;
  step?: number | string;
  /** Whether its page is visible. */
  visible: boolean;
  /** When it last moved (ms since the epoch): the newest is "where you left off". */
  movedAt: number;
}

/** Where another device is, and a way to follow it. */
export type ContinueOffer = PresenceState;

export class Presence {
  readonly #awareness: Awareness;
  readonly #device: PresenceDevice;
  #local: PresenceState;
  readonly #onVisibility = (): void => this.#publish({ visible: document.visibilityState === 'visible' });

  constructor(awareness: Awareness, device: PresenceDevice) {
    this.#awareness = awareness;
    this.#device = device;
    const visible = typeof document === 'undefined' || document.visibilityState === 'visible';
    this.#local = { device, visible, movedAt: Date.now() };
    awareness.setLocalState(this.#local);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** Announces where this device is; `movedAt` (default now) is when it got there, so a
   *  page restoring its place after a reload does not count as a new move. */
  moveTo(where: { route?: string; step?: number | string }, movedAt = Date.now()): void {
    this.#publish({ ...where, movedAt });
  }

  /** The other devices' latest states, one per device, newest move first (tabs of this
   *  device are left out). */
  others(): PresenceState[] {
    const byDevice = new Map<string, PresenceState>();
    for (const [client, state] of this.#awareness.getStates()) {
      if (client === this.#awareness.clientID || !isPresence(state)) continue;
      if (state.device.sid === this.#device.sid) continue;
      const known = byDevice.get(state.device.sid);
      if (!known || known.movedAt < state.movedAt) byDevice.set(state.device.sid, state);
    }
    return [...byDevice.values()].sort((a, b) => b.movedAt - a.movedAt);
  }

  /** Calls `listener` now and whenever another device appears, moves or leaves. */
  onChange(listener: (others: PresenceState[]) => void): () => void {
    const handler = (): void => listener(this.others());
    this.#awareness.on('change', handler);
    handler();
    return () => this.#awareness.off('change', handler);
  }

  /** "Continue where you left off": calls `listener` with the other device that moved last
   *  when it moved after this one and is somewhere else (another step or route), and with
   *  `null` when there is nothing to offer. */
  onContinue(listener: (offer: ContinueOffer | null) => void): () => void {
    let last: string | null = null;
    return this.onChange((others) => {
      const newest = others[0];
      const offer =
        newest &&
        newest.movedAt > this.#local.movedAt &&
        (newest.step !== this.#local.step || newest.route !== this.#local.route)
          ? newest
          : null;
      const key = offer ? `${offer.device.sid}:${offer.step}:${offer.route}` : '';
      if (key === last) return;
      last = key;
      listener(offer);
    });
  }

  destroy(): void {
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  #publish(change: Partial<PresenceState>): void {
    this.#local = { ...this.#local, ...change, device: this.#device };
    this.#awareness.setLocalState(this.#local);
  }
}

function isPresence(state: unknown): state is PresenceState {
  if (!state || typeof state !== 'object') return false;
  const device = (state as { device?: unknown }).device;
  return !!device && typeof device === 'object' && typeof (device as { sid?: unknown }).sid === 'string';
}
