//! The fault lab: where the fault suite's processes run and how faults reach them.
//!
//! A [`Lab`] is one Linux bridge and N network namespaces ("hosts") wired to it, each with its
//! own address; the runner starts `continuum serve` in the hosts ([`Lab::command`], or a
//! [`Process`] with [`ProcessSpec::in_netns`]) and cuts, isolates, delays and heals the links
//! between them. Stores run in the root namespace ([`services`]) and reach the hosts through a
//! [`Forwarder`] on [`Lab::service_ip`]. Needs root, `ip`, `tc` and `python3`: [`Lab::check`]
//! says which is missing.
//!
//! # Layout
//! - [`layout`]: names and addresses of a slot's lab, and the steps that build and remove it
//!   (pure).
//! - [`faults`]: the `tc` filters for each fault and how this kernel drops and delays (pure).
//! - [`step`]: a command line as data; [`exec`]: runs one and keeps its stderr on failure.
//! - [`slot`]: one `flock` per lab, so labs in parallel never share names.
//! - [`delay`]: the user-space delay line behind delays (no `netem` on this kernel).
//! - [`net`]: [`Lab`] itself, running the steps; [`error`]: [`LabError`].
//! - [`forward`]: [`Forwarder`], TCP from the service address to a loopback service.
//! - [`process`]: [`Process`], a child with a log that can be paused, killed and restarted.
//! - [`ready`]: [`wait_http_ready`], polling a plain HTTP `GET` until it answers 200.
//! - [`services`]: private [`RedisServer`] and [`PostgresServer`] instances.

pub mod delay;
pub mod error;
pub mod exec;
pub mod faults;
pub mod forward;
pub mod layout;
pub mod net;
pub mod process;
pub mod ready;
pub mod services;
pub mod slot;
pub mod step;

pub use error::LabError;
pub use forward::{ForwardError, Forwarder, MAX_CONNECTIONS};
pub use net::Lab;
pub use process::{Process, ProcessError, ProcessSpec, StopSignal};
pub use ready::{NotReady, ProbeError, http_status, wait_http_ready};
pub use services::{PostgresServer, RedisServer, ServiceError};
