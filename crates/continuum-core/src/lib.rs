//! Continuum's core: the pure logic of login sessions, with no I/O, no tokio and no clock inside.
//!
//! Everything that decides something about a session lives here so that it can be tested without
//! a server, a store or a sleep: how a token looks and is parsed, what a session record holds,
//! when a session expires, when a validation must persist a touch, and what input is too large.
//!
//! # Layout
//! - [`id`]: session ids, secrets, their SHA-256 digests and the `<sid>.<secret>` token, parsed
//!   strictly before any lookup.
//! - [`principal`]: who a session belongs to, including anonymous `anon:<random>` principals.
//! - [`time`]: [`Timestamp`], milliseconds since the Unix epoch, formatted as RFC 3339.
//! - [`clock`]: the [`Clock`] trait every component takes its time from, a system clock, a
//!   manual clock for tests and a skewed clock for clock-skew tests.
//! - [`cookie`]: Continuum's cookie names and attributes, the `Set-Cookie` values, and finding
//!   one cookie in a `Cookie` header value.
//! - [`record`]: [`SessionRecord`], what a store keeps for one session.
//! - [`policy`]: [`SessionPolicy`], the decisions: timeouts, validation, lazy touch, rotation
//!   grace, revocation.
//! - [`limits`]: [`Limits`] on sizes, depth and lengths of client input.
//! - [`handoff`]: [`HandoffCode`], the short code that moves a user to another device.
//! - [`seal`]: sealed sessions — the session encrypted (XChaCha20-Poly1305, keys derived by
//!   HKDF-SHA256) inside its token, a [`KeyRing`] for rotation, the cookie budget, and
//!   [`AnyToken`], which tells a sealed token from a stored one.
//! - [`at_rest`]: encryption at rest — a [`DataKeyRing`] (XChaCha20-Poly1305, keys derived by
//!   HKDF-SHA256) that seals what stores keep, bound to each record's id.
//! - [`throttle`]: [`FailureThrottle`], refusing clients that fail too often.
//! - [`doc`]: continuity document names — [`Scope`], [`DocName`], [`DocKey`] — and who may open
//!   them.
//! - [`placement`]: [`Placement`], the rendezvous ranking of a session or a document over the
//!   live node ids (primary, then backups), shared by the cluster and the gateway.
//! - [`ywire`]: the y-websocket message codes and Continuum's durability ack code.
//!
//! # Main flow
//! A backend creates a session with [`SessionPolicy::new_session`], which returns the record to
//! store and the [`Token`] to hand to the client, once. On every request the token is parsed with
//! [`Token::parse`], the record is fetched by its [`SessionId`], and [`SessionPolicy::validate`]
//! decides whether the token is good and whether the touch must be written back.

pub mod at_rest;
pub mod clock;
pub mod cookie;
pub mod doc;
pub mod handoff;
pub mod id;
pub mod limits;
pub mod placement;
pub mod policy;
pub mod principal;
pub mod record;
pub mod seal;
pub mod throttle;
pub mod time;
pub mod ywire;

pub use at_rest::{DataKey, DataKeyRing};
pub use clock::{Clock, ManualClock, SkewedClock, SystemClock};
pub use doc::{DocKey, DocName, DocNameError, Scope};
pub use handoff::{HandoffCode, HandoffCodeError};
pub use id::{Secret, SecretDigest, SessionId, Token, TokenError};
pub use limits::{LimitError, Limits};
pub use placement::{Placement, PlacementKey};
pub use policy::{NewSession, PolicyError, Rejection, SessionPolicy, Validation};
pub use principal::{Principal, PrincipalError};
pub use record::{Device, PreviousSecret, SessionRecord, Status};
pub use seal::{AnyToken, KeyId, KeyRing, OpenError, SealError, SealKey, SealedSession};
pub use throttle::{FailureThrottle, FailureWindow};
pub use time::Timestamp;
