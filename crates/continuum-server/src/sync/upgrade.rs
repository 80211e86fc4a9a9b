//! [`upgrade_socket`]: the upgrade of an HTTP request to a sync socket served by
//! [`serve_socket`], with the transport's buffer sizes and limits every sync route shares.

use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use continuum_sync::Peer;

use super::serve_socket;
use crate::sockets::SocketSlot;
use crate::state::AppState;

/// Upgrades to a socket serving `peer`, holding `slot` for its life; `route` names the route in
/// the log line of a failed upgrade.
pub fn upgrade_socket(
    upgrade: WebSocketUpgrade,
    peer: Peer,
    state: AppState,
    slot: SocketSlot,
    route: &'static str,
) -> Response {
    // The socket loop refuses messages over the limit with a clear close; the transport's own
    // limit only stops absurd frames before they are buffered.
    let transport_limit = state.sync_config().max_message_bytes.saturating_mul(4);
    // Boxed until the upgrade: axum's upgrade task keeps its callback's captures for the
    // socket's whole life, next to the socket loop that holds the same values again; a box
    // there costs 8 bytes, and it is freed as soon as the loop starts.
    let parts = Box::new((peer, state, slot));
    upgrade
        // The library's defaults (128 KiB each) dominated the memory of an open socket; see
        // `sync::buffers` for the sizes and what they cost.
        .read_buffer_size(super::buffers::READ_BUFFER_BYTES)
        .write_buffer_size(super::buffers::WRITE_BUFFER_BYTES)
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_failed_upgrade(move |error| tracing::debug!(error = %error, route, "sync upgrade failed"))
        .on_upgrade(move |socket| {
            let (peer, state, slot) = *parts;
            let tasks = state.socket_tasks().clone();
            tasks.track_future(serve_socket(socket, peer, state, slot))
        })
}
