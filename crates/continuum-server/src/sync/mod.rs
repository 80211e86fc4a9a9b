//! The WebSocket side of continuity documents: authenticating a socket, counting sockets per
//! session, and the loop that moves y-websocket messages between a socket and a
//! [`continuum_sync::Peer`].

pub mod access;
pub mod limits;
pub mod socket;

pub use access::{DocAccess, Opener};
pub use limits::{SocketCounter, SocketSlot};
pub use socket::serve_socket;
