//! `continuum-edge`: an edge node — the server app close to the user, over a session store that
//! answers validations from a cache the origin keeps honest, and a document store that keeps
//! the edge's own copy and queues every device's update durably for the origin; what only the
//! origin does is forwarded to it.
//!
//! # Layout
//! Listed from the bottom up; each module uses only modules listed before it.
//! - [`metrics`]: [`EdgeMetrics`], under `continuum_edge_*` on `/metrics`.
//! - [`origin`]: [`OriginClient`], the calls to the origin (a record, a touch, the events, any
//!   forwarded request) with the origin's API key and deadlines.
//! - [`edge_id`]: the edge's stable id, given or kept in `<data>/edge-id`.
//! - [`queue_age`]: [`QueueAges`](queue_age::QueueAges), when the queue's waiting entries were
//!   pushed (in memory, one mark per second of pushes), pure.
//! - [`queue`]: [`EdgeQueue`](queue::EdgeQueue), the durable queue of document updates (redb,
//!   one writer thread, group commit, fsync), with each update's writer.
//! - [`upstream`]: [`Upstream`](upstream::Upstream), which appends have reached the origin (the
//!   check behind the cloud acks that follow the edge acks), pure.
//! - [`queued_docs`]: [`QueuedDocs`](queued_docs::QueuedDocs), the edge's `DocStore`: the local
//!   copy, every update queued first.
//! - [`pacing`]: [`Backoff`](pacing::Backoff) and [`Linger`](pacing::Linger), how a downstream
//!   retries and when it lets go, pure.
//! - [`downstream`]: [`Downstream`](downstream::Downstream), the task keeping one document's
//!   read-only y-websocket to the origin (`/v1/edge/sync/…`): the origin's changes applied to
//!   the edge's copy as updates from upstream (kept locally, never queued), sent to its devices.
//! - [`downstreams`]: [`Downstreams`](downstreams::Downstreams), one downstream per document
//!   with a device at this edge, started by the registry's peers hook, let go after a linger.
//! - [`config`]: [`EdgeConfig`], what [`run()`] needs.
//! - [`bus`]: [`EdgeBus`], the origin's events as the app's bus (sockets of ended sessions
//!   close).
//! - [`cached_store`]: [`CachedSessions`], the edge's `SessionStore`: reads from the cache or the
//!   origin, touches passed on, writes refused (the origin's).
//! - [`listener`]: [`EventListener`], the task applying the origin's `/v1/events` to the cache
//!   and the bus, reconnecting with `Last-Event-ID`, a silent stream counted dead.
//! - [`replayer`]: [`Replayer`](replayer::Replayer), the task carrying the queue to the
//!   origin's `POST /v1/edge/replay`, exactly once per (edge id, seq).
//! - [`forward`]: [`front`](forward::front), the routes forwarded to the origin, in front of the
//!   app.
//! - [`run`](mod@run): [`run()`], the edge's life from start to drain.
//!
//! # Main flow
//! [`run()`] builds the origin client, the cache, the [`CachedSessions`] store, the queue and
//! the [`QueuedDocs`](queued_docs::QueuedDocs) store and the [`EdgeBus`], spawns the
//! [`EventListener`], the [`Replayer`](replayer::Replayer) and the touch task, registers the
//! [`Downstreams`](downstreams::Downstreams) with the app's documents, and serves
//! `continuum_server::run_fronted` over those stores with [`forward::front`] in front. A
//! validation (`GET /v1/me`, a sync upgrade, the socket check) reads the store, which answers
//! from the cache while it may and asks the origin otherwise — failing closed (503) when the
//! origin does not answer. A device's update is applied to the edge's copy, queued (fsynced)
//! with its writer's sid and acknowledged `edge` (type 101); the replayer carries the queue to
//! the origin, which applies each (edge id, seq) once and refuses ended sessions' updates.
//! Downstream, each document with a device here has a socket to the origin that only reads:
//! what changes at the origin (or at another edge, replayed there) reaches the edge's copy and
//! its devices, and is kept in the local copy without being queued — so nothing goes back up
//! twice.

pub mod bus;
pub mod cached_store;
pub mod config;
pub mod downstream;
pub mod downstreams;
pub mod edge_id;
pub mod forward;
pub mod listener;
pub mod metrics;
pub mod origin;
pub mod pacing;
pub mod queue;
pub mod queue_age;
pub mod queued_docs;
pub mod replayer;
pub mod run;
pub mod upstream;

pub use bus::EdgeBus;
pub use cached_store::CachedSessions;
pub use config::EdgeConfig;
pub use continuum_store::session_cache::{CachePolicy, SessionCache};
pub use listener::EventListener;
pub use metrics::EdgeMetrics;
pub use origin::OriginClient;
pub use run::{EdgeError, run};
