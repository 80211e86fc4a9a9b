//! `GET /v1/events`: session events as server-sent events, for application servers that cache
//! sessions (the `continuum-tower` remote mode drops a cached session the moment it is revoked).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::events::feed::{FeedItem, Resume};
use crate::extract::BackendAuth;
use crate::state::AppState;
use crate::views::Rfc3339;

/// How often a quiet stream carries a comment line: a reader that hears nothing for a few of
/// these knows the stream is dead even when the connection was cut without a FIN (an edge's
/// session cache stops trusting itself after its cap from then on).
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// The `data` of one event.
#[derive(Serialize, ToSchema, Debug)]
// No other fields (`additionalProperties: false`), so the three kinds of `data` are told apart
// by their schemas in `EventData`'s `oneOf`.
#[serde(deny_unknown_fields)]
pub struct SessionEventView {
    /// `created`, `rotated`, `revoked` or `expired`.
    pub kind: String,
    /// The session's id (never its secret).
    pub sid: String,
    /// Whose session it is.
    pub principal: String,
    /// When it happened, RFC 3339.
    #[schema(value_type = String)]
    pub at: Rfc3339,
}

/// The `data` of a `signed_out_everywhere` event: every session of the principal ended, sealed
/// tokens included (which have no per-session events).
#[derive(Serialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SignedOutView {
    /// Whose sessions ended.
    pub principal: String,
    /// When, RFC 3339.
    #[schema(value_type = String)]
    pub at: Rfc3339,
}

/// The `data` of a `data_lost` event: keys the store cannot serve because every node holding
/// them left (a replicated store that lost more than its replicas at once); all zero once they
/// are available again. Drop nothing on it; the sessions it counts answer 503 until then.
#[derive(Serialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct DataLostView {
    /// Sessions no live node holds.
    pub sessions: u64,
    /// Documents no live node holds.
    pub documents: u64,
    /// The departed nodes that held them.
    pub nodes: Vec<String>,
    /// When this node saw it, RFC 3339.
    #[schema(value_type = String)]
    pub at: Rfc3339,
}

/// The `data` of a `refused_updates` event: updates an edge queued for a session that had
/// ended before they reached the origin, refused at replay and kept out of the documents.
#[derive(Serialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RefusedUpdatesView {
    /// The session.
    pub sid: String,
    /// Its principal, if still known.
    pub principal: Option<String>,
    /// How many updates were refused.
    pub count: u64,
    /// When, RFC 3339.
    #[schema(value_type = String)]
    pub at: Rfc3339,
}

/// The `data` of a `reset`.
#[derive(Serialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ResetView {
    /// Why events may be missing.
    pub reason: String,
}

/// The `data` of any event on the stream, for the OpenAPI document: which one goes with the
/// `event:` name is in the operation's description.
#[derive(Serialize, ToSchema, Debug)]
#[serde(untagged)]
pub enum EventData {
    /// `created`, `rotated`, `revoked`, `expired`.
    Session(SessionEventView),
    /// `signed_out_everywhere`.
    SignedOut(SignedOutView),
    /// `data_lost`.
    DataLost(DataLostView),
    /// `refused_updates`.
    RefusedUpdates(RefusedUpdatesView),
    /// `reset`.
    Reset(ResetView),
}

fn render(item: FeedItem) -> Event {
    match item {
        FeedItem::Event { id, event } => {
            let view = SessionEventView {
                kind: event.kind.as_str().to_owned(),
                sid: event.sid.to_string(),
                principal: event.principal.as_str().to_owned(),
                at: Rfc3339(event.at),
            };
            Event::default().id(id).event(event.kind.as_str()).json_data(view).expect("a view serializes")
        }
        FeedItem::SignedOutEverywhere { id, principal, at } => {
            let view = SignedOutView { principal: principal.as_str().to_owned(), at: Rfc3339(at) };
            Event::default().id(id).event("signed_out_everywhere").json_data(view).expect("a view serializes")
        }
        FeedItem::DataLost { id, loss, at } => {
            let view = DataLostView {
                sessions: loss.sessions,
                documents: loss.documents,
                nodes: loss.nodes,
                at: Rfc3339(at),
            };
            Event::default().id(id).event("data_lost").json_data(view).expect("a view serializes")
        }
        FeedItem::RefusedUpdates { id, sid, principal, count, at } => {
            let view = RefusedUpdatesView {
                sid: sid.to_string(),
                principal: principal.map(|principal| principal.as_str().to_owned()),
                count,
                at: Rfc3339(at),
            };
            Event::default().id(id).event("refused_updates").json_data(view).expect("a view serializes")
        }
        FeedItem::Reset { reason } => Event::default()
            .event("reset")
            .json_data(ResetView { reason: reason.to_owned() })
            .expect("serializes"),
    }
}

/// The live items until the server shuts down; a reader that falls behind gets a reset.
fn live(
    receiver: broadcast::Receiver<FeedItem>,
    shutdown: CancellationToken,
) -> impl Stream<Item = FeedItem> + Send + 'static {
    stream::unfold((receiver, shutdown), |(mut receiver, shutdown)| async move {
        let next = tokio::select! {
            () = shutdown.cancelled() => return None,
            next = receiver.recv() => next,
        };
        let item = match next {
            Ok(item) => item,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                FeedItem::Reset { reason: "this reader fell behind" }
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((item, (receiver, shutdown)))
    })
}

/// Session events — `created`, `rotated`, `revoked`, `expired`, `signed_out_everywhere`,
/// `data_lost`, `refused_updates` (an edge's queued updates of an ended session, refused at replay) and `reset` — as `text/event-stream`, from every node sharing the store. Each event has an id; reconnect with `Last-Event-ID` to
/// resume from the same node within its window of 1024 events. When that is not possible (other
/// node, restart, too old) the stream starts with a `reset` event: drop cached sessions. A quiet
/// stream carries a comment line every second, so a reader can tell a dead one.
#[utoipa::path(get, path = "/v1/events", tag = "backend", security(("api_key" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "the id of the last event received")),
    responses((status = 200, content_type = "text/event-stream", body = EventData,
               description = "`event: <kind>` with a SessionEventView, `event: signed_out_everywhere` with a SignedOutView, `event: data_lost` with a DataLostView, `event: refused_updates` with a RefusedUpdatesView, or `event: reset` with a ResetView"),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)))]
pub async fn stream_events(
    State(state): State<AppState>,
    _: BackendAuth,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::bad_request("invalid-last-event-id", "Last-Event-ID must be visible ASCII")
        })?),
    };
    let (resume, receiver) = state.feed().subscribe(last_id);
    let first = match resume {
        Resume::Replay(items) => items,
        Resume::Reset => vec![FeedItem::Reset { reason: "cannot resume from this Last-Event-ID" }],
    };
    let items = stream::iter(first).chain(live(receiver, state.shutdown().clone()));
    Ok(Sse::new(items.map(|item| Ok(render(item)))).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}
