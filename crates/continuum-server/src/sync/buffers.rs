//! The WebSocket buffer sizes of a sync socket: most of what an open socket costs in memory.
//!
//! tungstenite keeps a read buffer and a write buffer per socket, and neither shrinks: the write
//! buffer keeps the capacity of the most it ever held. The library defaults (128 KiB each) suit a
//! few busy connections; a document server holds thousands of mostly idle ones, so both are
//! small and grow only for the rare large message. Measured with `continuum bench --scenario
//! burst` (1,000 sockets on one document, RSS per socket; see `BENCHMARKS.md`).

/// Bytes read from the socket at a time. A larger message still arrives whole: the buffer grows
/// to it. y-websocket messages are mostly tens of bytes (a keystroke, an awareness state), so
/// 512 bytes hold a dozen of them per read. Every byte here is a byte per open socket: 512
/// instead of 1,024 measured 0.4 KiB less RSS per socket (9.05 -> 8.62 KiB, 4 runs each).
pub const READ_BUFFER_BYTES: usize = 512;

/// Frames gather in the write buffer up to this size before a socket write, and are written at
/// the latest when a batch flushes (see [`super::outbound`]). At 1 KiB a burst of small updates
/// still takes one system call per ~30 messages (0.7 µs of server CPU per delivered update in the
/// burst scenario, against 0.4 µs at 8 KiB), while the buffer each socket keeps stays about 1 KiB
/// (8 KiB cost 10 KiB more per socket).
pub const WRITE_BUFFER_BYTES: usize = 1024;
