//! The WebSocket side of continuity documents: authenticating a socket, counting sockets per
//! session, the node-wide check that closes the sockets of expired sessions, the loop that
//! moves y-websocket messages between a socket and a [`continuum_sync::Peer`], how it writes
//! them (several per flush), and its buffer sizes.

pub mod access;
pub mod buffers;
pub mod limits;
pub mod outbound;
pub mod session_check;
pub mod socket;

pub use access::{DocAccess, Opener};
pub use limits::{SocketCounter, SocketOwner, SocketSlot};
pub use session_check::SessionChecker;
pub use socket::serve_socket;
