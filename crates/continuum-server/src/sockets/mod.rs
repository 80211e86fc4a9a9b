//! The sync sockets each session holds, below the app's state (which holds the counter) and
//! the socket loop ([`crate::sync`], which takes a slot per socket): [`SocketCounter`] bounds
//! and ends them, [`SessionChecker`] is the node-wide task that ends those of sessions no
//! longer live.
//!
//! # Layout
//! - [`counter`]: [`SocketCounter`], the open sockets by owner, and their slots.
//! - [`session_check`]: [`SessionChecker`], the node-wide session check.

pub mod counter;
pub mod session_check;

pub use counter::{SocketCounter, SocketOwner, SocketSlot};
pub use session_check::SessionChecker;
