//! The `doc-memory` scenario: the server's RSS per open document. It creates `--sessions`
//! sessions, reads RSS, opens one `session:<sid>` document per session (one socket each, a few
//! keys written and acknowledged), reads RSS again with all of them open, closes them and reads
//! RSS a last time.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::task::JoinSet;
use yrs::Any;

use super::content::{MapWriter, Replica};
use super::error::SyncError;
use super::fd_limit::ensure_open_files;
use super::open::{OPEN_TIMEOUT, open_all};
use super::report::DocMemoryReport;
use super::socket::SyncSocket;
use super::target::DocTarget;
use super::tokens::{BenchSession, session};
use super::wire;
use crate::idle_memory::SETTLE;
use crate::pool;
use crate::progress;
use crate::server_metrics::read_rss;
use continuum_client::{BearerKey, Endpoint};

/// The name of every document (each in its own session's scope).
pub const DOC_NAME: &str = "bench-memory";

/// Keys written into each document.
pub const KEYS: usize = 20;

/// How long the server may take to make one document's write durable.
const DURABLE_WAIT: Duration = Duration::from_secs(30);

/// The content of document `index`: [`KEYS`] short strings, as a small form draft.
pub fn content(index: usize) -> Vec<(String, Any)> {
    (0..KEYS).map(|key| (format!("field{key}"), Any::from(format!("value {key} of {index}")))).collect()
}

/// Opens `session`'s document, syncs it, writes [`content`] and waits for the durable ack.
async fn open_document(
    endpoint: Endpoint,
    session: BenchSession,
    index: usize,
) -> Result<SyncSocket, super::socket::SocketError> {
    let target = DocTarget::session(&session.sid, DOC_NAME);
    let mut socket = SyncSocket::open(&endpoint, &target, &session.auth, true).await?;
    socket.sync(&mut Replica::new(), OPEN_TIMEOUT).await?;
    let entries = content(index);
    let update = MapWriter::new().set(entries.iter().map(|(key, value)| (key.as_str(), value.clone())));
    socket.send(wire::update(update)).await?;
    socket.wait_durable(1, DURABLE_WAIT).await?;
    Ok(socket)
}

/// Runs the scenario: `documents` sessions and documents, at most `connections` opened at a time.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    documents: usize,
    connections: usize,
) -> Result<DocMemoryReport, SyncError> {
    ensure_open_files(documents)?;
    let bar = progress::counted("doc-memory", documents as u64);
    let created = pool::create_sessions(endpoint, key, documents, connections, &bar).await;
    let created_stats = created.recorder.stats(created.elapsed);
    let mut errors: BTreeMap<String, u64> = created_stats.errors_by_kind;
    let sessions: Vec<BenchSession> = created
        .pool
        .tokens
        .into_iter()
        .zip(created.pool.sids)
        .map(|(token, sid)| session(token, sid))
        .collect::<Result<_, _>>()?;
    if sessions.is_empty() {
        return Err(SyncError::NoSession { errors });
    }
    tokio::time::sleep(SETTLE).await;
    let rss_before = read_rss(endpoint, key).await?;

    let bar = progress::counted("doc-memory", sessions.len() as u64);
    let (endpoint_for_open, sessions_for_open) = (endpoint.clone(), std::sync::Arc::new(sessions));
    let opened = open_all(sessions_for_open.len(), connections, &bar, move |index| {
        open_document(endpoint_for_open.clone(), sessions_for_open[index].clone(), index)
    })
    .await;
    for (kind, count) in &opened.errors {
        *errors.entry(kind.clone()).or_default() += count;
    }
    if opened.items.is_empty() {
        return Err(SyncError::NoSocket { role: "document", first_error: opened.first_error });
    }
    tokio::time::sleep(SETTLE).await;
    let rss_open = read_rss(endpoint, key).await?;
    let open = opened.items.len() as u64;

    // Each close is bounded by the socket's own close wait.
    let mut closing = JoinSet::new();
    for (_, socket) in opened.items {
        closing.spawn(socket.close());
    }
    while closing.join_next().await.is_some() {}
    tokio::time::sleep(SETTLE).await;
    let rss_closed = read_rss(endpoint, key).await?;

    Ok(DocMemoryReport {
        scenario: "doc-memory",
        documents: open,
        keys_per_document: KEYS,
        errors: errors.values().sum(),
        errors_by_kind: errors,
        rss_before_bytes: rss_before,
        rss_open_bytes: rss_open,
        rss_closed_bytes: rss_closed,
        bytes_per_document: crate::report::IdleMemoryReport::bytes_per_session(rss_before, rss_open, open),
        open_rate: open as f64 / opened.elapsed.as_secs_f64().max(f64::EPSILON),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_gets_its_own_small_content() {
        let first = content(0);
        assert_eq!(first.len(), KEYS);
        assert_eq!(first[3], ("field3".to_owned(), Any::from("value 3 of 0")));
        assert_ne!(content(1)[3].1, first[3].1);
    }
}
