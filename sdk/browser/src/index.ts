// @continuum/browser: continuity documents for web pages.

export { Continuum, type ContinuumOptions, type SignOutResult } from './client.js';
export { ContinuumDoc } from './document.js';
export { ContinuumError, NetworkError, type Problem } from './errors.js';
export { bindForm, type FieldValue, type FormBinding, type FormOptions } from './form.js';
export { watchOverwrites, type Overwrite } from './overwrite.js';
export { Presence, type ContinueOffer, type PresenceDevice, type PresenceState } from './presence.js';
export type { SaveState, SaveStatus } from './status.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { deviceName, type DeviceList, type HandoffOffer, type ScopeKind, type Session } from './types.js';
