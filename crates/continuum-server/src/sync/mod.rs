//! The WebSocket side of continuity documents: authenticating a socket, the loop that moves
//! y-websocket messages between a socket and a [`continuum_sync::Peer`], how it writes them
//! (several per flush), and its buffer sizes. Counting sockets per session and the node-wide
//! check that closes the sockets of expired sessions are [`crate::sockets`], below the state.

pub mod access;
pub mod buffers;
pub mod outbound;
pub mod socket;
pub mod upgrade;

pub use access::{DocAccess, Opener};
pub use socket::serve_socket;
pub use upgrade::upgrade_socket;
