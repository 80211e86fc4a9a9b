// Continuum: the SDK's entry point — the signed-in session, devices, handoff, and documents.

import { type BackoffOptions, backoffDelay } from './backoff.js';
import { ContinuumDoc } from './document.js';
import { ContinuumError, NetworkError } from './errors.js';
import { call } from './http.js';
import { wipeLocalDocs } from './localdocs.js';
import { type DeviceList, type HandoffOffer, type ScopeKind, type Session, deviceName } from './types.js';

export interface ContinuumOptions {
  /** The server's origin; default: this page's. */
  baseUrl?: string;
  /** Reconnect delays of document sockets. */
  backoff?: BackoffOptions;
  /** How long a change may wait for the server's ack before its socket counts as dead and the
   *  status says "Offline — N changes waiting" (default 3000 ms). */
  ackTimeoutMs?: number;
}

/** What {@link Continuum.signOut} achieved. */
export type SignOutResult =
  /** The server ended the session. */
  | 'confirmed'
  /** The server could not be reached: the session is ended here and the sign-out is retried
   *  until the server confirms it. */
  | 'queued';

/** Where the last known session (its public view, never the token) is remembered, so a page
 *  loaded offline can still open its documents from IndexedDB. */
const LAST_SESSION = 'continuum:last-session';
/** Set while a sign-out waits for the server; the browser keeps the session's cookie only to
 *  send it. */
const PENDING_SIGN_OUT = 'continuum:sign-out-pending';
/** Retries of a queued sign-out: soon after the server is back, never more often than 1/s. */
const SIGN_OUT_RETRY: BackoffOptions = { initialMs: 1000, maxMs: 4000 };

export class Continuum {
  readonly baseUrl: string;
  readonly #backoff: BackoffOptions | undefined;
  readonly #ackTimeoutMs: number | undefined;
  #session: Session | null = null;
  readonly #signOutConfirmed = new Set<() => void>();
  #signOutTimer: ReturnType<typeof setTimeout> | null = null;
  #signOutAttempt = 0;
  readonly #docs = new Map<string, ContinuumDoc>();
  readonly #signedOut = new Set<() => void>();
  #ended = false;

  constructor(options: ContinuumOptions = {}) {
    this.baseUrl = options.baseUrl ?? window.location.origin;
    this.#backoff = options.backoff;
    this.#ackTimeoutMs = options.ackTimeoutMs;
    // A sign-out queued by an earlier page is still owed to the server.
    if (this.signOutPending) this.#retrySignOut(0);
    window.addEventListener('online', () => {
      if (this.signOutPending) this.#retrySignOut(0);
    });
  }

  /** Whether a sign-out is waiting for the server (see {@link signOut}). */
  get signOutPending(): boolean {
    try {
      return localStorage.getItem(PENDING_SIGN_OUT) !== null;
    } catch {
      return false;
    }
  }

  /** Calls `listener` when the server confirms a queued sign-out. */
  onSignOutConfirmed(listener: () => void): () => void {
    this.#signOutConfirmed.add(listener);
    return () => this.#signOutConfirmed.delete(listener);
  }

  /** This device's session, or `null` when signed out. Network failures reject with
   *  {@link NetworkError}. */
  async me(): Promise<Session | null> {
    // The cookie of a queued sign-out is kept only to end it: it signs nobody in.
    if (this.signOutPending && !(await this.#sendSignOut())) return null;
    try {
      const { session } = await call<{ session: Session }>(this.baseUrl, 'GET', '/v1/me');
      this.#remember(session);
      return session;
    } catch (error) {
      if (error instanceof ContinuumError && error.signedOut) {
        // The session this browser had is gone (expired, revoked elsewhere, or its cookie was
        // lost in a crash): its local copies can sync no more, so they are wiped, not left on
        // a possibly shared computer (docs/design.md, "Continuity you can trust").
        this.#forget();
        await wipeLocalDocs();
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
    await this.#signOutFirst();
    const { session } = await call<{ session: Session }>(this.baseUrl, 'POST', '/v1/guest');
    this.#remember(session);
    return session;
  }

  /** Signs this device out: closes its documents and deletes their local copies at once, and
   *  ends the session on the server. When the server cannot be reached the sign-out is queued
   *  (kept in localStorage, so a reload keeps it) and retried until the server confirms it;
   *  until then `me()` answers `null` and no new session starts in this browser, so the
   *  session's cookie serves only to end it. */
  async signOut(): Promise<SignOutResult> {
    try {
      localStorage.setItem(PENDING_SIGN_OUT, new Date().toISOString());
    } catch {
      // Not kept across a reload; retried while this page lives.
    }
    await this.#end();
    if (await this.#sendSignOut()) return 'confirmed';
    this.#retrySignOut(this.#signOutAttempt);
    return 'queued';
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
      await this.#signOutFirst();
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
      ackTimeoutMs: this.#ackTimeoutMs,
      onSignedOut: () => void this.#end(),
      checkSession: () => this.#sessionLive(),
    });
    this.#docs.set(key, doc);
    return doc;
  }

  /** Sends the queued sign-out once; true when the server confirmed it (or the session was
   *  already gone), false when it could not be reached. */
  async #sendSignOut(): Promise<boolean> {
    try {
      await call<void>(this.baseUrl, 'DELETE', '/v1/me');
    } catch (error) {
      // 401: already ended. A network failure or a server error: try again later.
      if (!(error instanceof ContinuumError && error.signedOut)) return false;
    }
    const queued = this.#signOutTimer !== null || this.#signOutAttempt > 0;
    if (this.#signOutTimer) clearTimeout(this.#signOutTimer);
    this.#signOutTimer = null;
    this.#signOutAttempt = 0;
    try {
      localStorage.removeItem(PENDING_SIGN_OUT);
    } catch {
      // Nothing was kept.
    }
    if (queued) for (const listener of [...this.#signOutConfirmed]) listener();
    return true;
  }

  #retrySignOut(attempt: number): void {
    if (this.#signOutTimer) clearTimeout(this.#signOutTimer);
    this.#signOutTimer = setTimeout(async () => {
      this.#signOutAttempt = attempt + 1;
      this.#signOutTimer = null;
      if (!(await this.#sendSignOut())) this.#retrySignOut(this.#signOutAttempt);
    }, attempt === 0 ? 0 : backoffDelay(attempt, SIGN_OUT_RETRY));
  }

  /** A queued sign-out goes first: a new session would replace the cookie it needs. */
  async #signOutFirst(): Promise<void> {
    if (this.signOutPending && !(await this.#sendSignOut())) {
      throw new NetworkError('the previous sign-out has not reached the server yet');
    }
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
