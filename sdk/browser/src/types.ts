// The JSON shapes of the client plane, as the server sends them.

/** A session as the server shows it (never with its secret). */
export interface Session {
  sid: string;
  principal: string;
  device: { label?: string; user_agent?: string };
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  absolute_expires_at: string;
  status: 'active' | 'expired' | 'revoked';
  version: number;
}

/** `GET /v1/me/devices`. */
export interface DeviceList {
  /** The sid of this device. */
  current: string;
  sessions: Session[];
}

/** `POST /v1/me/handoff`. */
export interface HandoffOffer {
  /** 8 characters; show it on this device, type it on the other. */
  code: string;
  expires_at: string;
}

/** Whose document: the user's (every device) or this device's session only. */
export type ScopeKind = 'user' | 'session';

/** A short name for a device from its user agent: "Chrome on Linux". */
export function deviceName(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'an unknown system';
  return `${browser} on ${os}`;
}
