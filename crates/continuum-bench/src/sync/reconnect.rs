//! The `reconnect` scenario: what a client that was away receives when it comes back. A writer
//! fills a document with `--updates` updates; a client syncs it from nothing, leaves; the writer
//! adds `missed` more; the client reconnects with its state vector. The sync step 2 it receives
//! should grow with what it missed, not with the document.
//!
//! Every update adds a new key (`k<n>`, a short string), the way a form fills up, so the document
//! grows with every update and a reconnect's delta is easy to tell from a full copy.

use std::time::Duration;

use tokio::time::Instant;
use yrs::Any;

use super::content::{MapWriter, Replica};
use super::error::SyncError;
use super::open::OPEN_TIMEOUT;
use super::report::{ReconnectReport, ReconnectRow};
use super::socket::{SocketError, SyncSocket, Synced};
use super::target::{DocTarget, run_id};
use super::tokens::{BenchSession, SocketTokens};
use super::wire;
use continuum_client::{BearerKey, Endpoint};

/// The name of the document.
pub const DOC_NAME: &str = "bench-reconnect";

/// Updates the writer sends before waiting for their acks.
const FILL_BATCH: u64 = 64;

/// How long the writer waits for one batch to become durable.
const DURABLE_WAIT: Duration = Duration::from_secs(30);

/// How the scenario runs.
#[derive(Clone, Debug)]
pub struct ReconnectConfig {
    /// Updates in the document before the first sync.
    pub updates: u64,
    /// Updates missed before each reconnect, in order.
    pub missed: Vec<u64>,
}

/// The writer: one socket with acks, adding keys.
struct Filler {
    socket: SyncSocket,
    content: MapWriter,
    sent: u64,
}

impl Filler {
    /// Adds `count` keys and waits until the server has them durably (and so in the live
    /// document a reconnecting client syncs from).
    async fn add(&mut self, count: u64) -> Result<(), SyncError> {
        let target = self.sent + count;
        while self.sent < target {
            let batch_end = (self.sent + FILL_BATCH).min(target);
            while self.sent < batch_end {
                let key = format!("k{}", self.sent);
                let value = Any::from(format!("value {:08}", self.sent));
                let update = wire::update(self.content.set([(key.as_str(), value)]));
                tokio::time::timeout(DURABLE_WAIT, self.socket.send(update))
                    .await
                    .unwrap_or(Err(SocketError::Timeout(DURABLE_WAIT)))
                    .map_err(SyncError::Send)?;
                self.sent += 1;
            }
            self.socket.wait_durable(self.sent, DURABLE_WAIT).await.map_err(SyncError::Unacked)?;
        }
        Ok(())
    }
}

/// Opens the client's socket, syncs `replica`, closes; returns what the sync received and how long
/// it took from connecting.
async fn visit(
    endpoint: &Endpoint,
    target: &DocTarget,
    session: &BenchSession,
    replica: &mut Replica,
) -> Result<(Synced, Duration), SocketError> {
    let started = Instant::now();
    let mut socket = SyncSocket::open(endpoint, target, &session.auth, false).await?;
    let synced = socket.sync(replica, OPEN_TIMEOUT).await?;
    let took = started.elapsed();
    socket.close().await;
    Ok((synced, took))
}

/// Checks that the client has every key the writer made.
fn check_converged(replica: &Replica, expected: u64) -> Result<(), SyncError> {
    let keys = u64::from(replica.len());
    if keys != expected {
        return Err(SyncError::NotConverged { keys, expected });
    }
    Ok(())
}

/// Runs the scenario.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    config: &ReconnectConfig,
) -> Result<ReconnectReport, SyncError> {
    let principal = format!("bench-{}", run_id());
    let target = DocTarget::user(&principal, DOC_NAME);
    let tokens = SocketTokens::create(endpoint, key, &principal, 2).await?;
    let session = tokens.for_socket(0);
    let mut socket =
        SyncSocket::open(endpoint, &target, &session.auth, true).await.map_err(SyncError::OpenWriter)?;
    socket.sync(&mut Replica::new(), OPEN_TIMEOUT).await.map_err(SyncError::SyncWriter)?;
    let mut filler = Filler { socket, content: MapWriter::new(), sent: 0 };
    filler.add(config.updates).await?;

    let mut client = Replica::new();
    let (first, first_took) =
        visit(endpoint, &target, session, &mut client).await.map_err(SyncError::FirstSync)?;
    check_converged(&client, filler.sent)?;
    let mut reconnects = Vec::with_capacity(config.missed.len());
    for &missed in &config.missed {
        filler.add(missed).await?;
        let (synced, took) =
            visit(endpoint, &target, session, &mut client).await.map_err(SyncError::Reconnect)?;
        check_converged(&client, filler.sent)?;
        reconnects.push(ReconnectRow {
            missed,
            step2_bytes: synced.step2_bytes,
            vs_first_sync: synced.step2_bytes as f64 / first.step2_bytes.max(1) as f64,
            full_state_bytes: client.full_state_len(),
            reconnect_us: micros(took),
        });
    }
    filler.socket.close().await;
    Ok(ReconnectReport {
        scenario: "reconnect",
        updates: config.updates,
        first_sync_bytes: first.step2_bytes,
        first_sync_us: micros(first_took),
        reconnects,
    })
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
