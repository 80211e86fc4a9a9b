// Continuum: the SDK's entry point — the signed-in session, devices, handoff, and documents.

import type { BackoffOptions } from './backoff.js';
import { ContinuumDoc } from './document.js';
import { ContinuumError, NetworkError } from './errors.js';
import { call } from './http.js';
import { type DeviceList, type HandoffOffer, type ScopeKind, type Session, deviceName } from './types.js';

export interface ContinuumOptions {
  /** The server's origin; default: this page's. */
  baseUrl?: string;
  /** Reconnect delays of document sockets. */
  backoff?: BackoffOptions;
}

/** Where the last known session (its public view, never the token) is remembered, so a page
 *  loaded offline can still open its documents from IndexedDB. */
const LAST_SESSION = 'continuum:last-session';

export class Continuum {
  readonly baseUrl: string;
  readonly #backoff: BackoffOptions | undefined;
  #session: Session | null = null;
  readonly #docs = new Map<string, ContinuumDoc>();
  readonly #signedOut = new Set<() => void>();
  #ended = false;

  constructor(options: ContinuumOptions = {}) {
    this.baseUrl = options.baseUrl ?? window.location.origin;
    this.#backoff = options.backoff;
  }

  /** This device's session, or `null` when signed out. Network failures reject with
   *  {@link NetworkError}. */
  async me(): Promise<Session | null> {
    try {
      const { session } = await call<{ session: Session }>(this.baseUrl, 'GET', '/v1/me');
      this.#remember(session);
      return session;
    } catch (error) {
      if (error instanceof ContinuumError && error.signedOut) {
        this.#forget();
        return null;
      }
      throw error;
    }
  }

  /** The session this browser last had, for working offline: `me()` rejected with a
   *  {@link NetworkError}, but the documents can still be opened from their local copies and
   *  will sync (or report a signed-out session) once the server answers. */
  lastSession(): Session | null {
    try {
      const text = localStorage.getItem(LAST_SESSION);
      return text ? (JSON.parse(text) as Session) : null;
    } catch {
      return null;
    }
  }

  /** Works with `session` (from {@link lastSession}) until the server answers. */
  useOffline(session: Session): void {
    this.#session = session;
  }

  /** Starts an anonymous guest session (the server must allow guests). */
  async startGuest(): Promise<Session> {
    const { session } = await call<{ session: Session }>(this.baseUrl, 'POST', '/v1/guest');
    this.#remember(session);
    return session;
  }

  /** Signs this device out, closes its documents and deletes their local copies. */
  async signOut(): Promise<void> {
    try {
      await call<void>(this.baseUrl, 'DELETE', '/v1/me');
    } finally {
      await this.#end();
    }
  }

  /** Every signed-in device of this user. */
  devices(): Promise<DeviceList> {
    return call<DeviceList>(this.baseUrl, 'GET', '/v1/me/devices');
  }

  /** Signs another device of this user out; its open documents close within a second. */
  revokeDevice(sid: string): Promise<void> {
    return call<void>(this.baseUrl, 'DELETE', `/v1/me/devices/${encodeURIComponent(sid)}`);
  }

  /** Handoff to another device: `create` on this one, `redeem` the code on the other. */
  readonly handoff = {
    /** A code valid for two minutes, once. */
    create: (): Promise<HandoffOffer> => call<HandoffOffer>(this.baseUrl, 'POST', '/v1/me/handoff'),
    /** Signs this device in as the user who created `code`. */
    redeem: async (code: string): Promise<Session> => {
      const { session } = await call<{ session: Session }>(this.baseUrl, 'POST', '/v1/handoff/redeem', { code });
      this.#remember(session);
      return session;
    },
  };

  /** Calls `listener` when the server ends this device's session (revoked, expired). */
  onSignedOut(listener: () => void): () => void {
    this.#signedOut.add(listener);
    return () => this.#signedOut.delete(listener);
  }

  /** Opens the user's (`user`, every device) or this device's (`session`) document `name`.
   *  The local copy is restored before the network answers: await `doc.ready`. */
  async open(scope: ScopeKind, name: string): Promise<ContinuumDoc> {
    const session = this.#session ?? (await this.me());
    if (!session) throw new ContinuumError({ type: 'urn:continuum:problem:unauthorized', title: 'Unauthorized', status: 401, detail: 'sign in before opening a document' });
    const scopeText = scope === 'user' ? `user:${session.principal}` : `session:${session.sid}`;
    const key = `${scopeText}/${name}`;
    const open = this.#docs.get(key);
    if (open) return open;
    const doc = new ContinuumDoc({
      scope: scopeText,
      name,
      baseUrl: this.baseUrl,
      device: { sid: session.sid, name: deviceName(session.device.user_agent) },
      backoff: this.#backoff,
      onSignedOut: () => void this.#end(),
      checkSession: () => this.#sessionLive(),
    });
    this.#docs.set(key, doc);
    return doc;
  }

  #remember(session: Session): void {
    this.#session = session;
    this.#ended = false;
    try {
      localStorage.setItem(LAST_SESSION, JSON.stringify(session));
    } catch {
      // Storage full or disabled: offline loads will not find the session.
    }
  }

  #forget(): void {
    this.#session = null;
    try {
      localStorage.removeItem(LAST_SESSION);
    } catch {
      // Nothing to forget.
    }
  }

  async #sessionLive(): Promise<boolean | undefined> {
    try {
      return (await this.me()) !== null;
    } catch (error) {
      // Offline or a server error: not known to be signed out; keep retrying.
      if (error instanceof NetworkError || error instanceof ContinuumError) return undefined;
      throw error;
    }
  }

  async #end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#forget();
    const docs = [...this.#docs.values()];
    this.#docs.clear();
    for (const listener of this.#signedOut) listener();
    for (const doc of docs) {
      doc.destroy();
      await doc.clearLocal();
    }
  }
}
