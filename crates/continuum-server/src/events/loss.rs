//! [`watch_data_loss`]: what the store cannot serve (a replicated store that lost more than
//! `k` owners of some keys at once), put on `/v1/events` as a `data_lost` event each time it
//! changes; `/readyz` reads the same watch.

use continuum_store::{DataLoss, Sessions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::EventFeed;

/// Until `cancel`, pushes every change of `loss` onto `feed` (the first value too, if anything
/// is missing already), stamped by the clock of `sessions`.
pub async fn watch_data_loss(
    feed: EventFeed,
    sessions: Sessions,
    mut loss: watch::Receiver<DataLoss>,
    cancel: CancellationToken,
) {
    let mut last = DataLoss::default();
    loop {
        let now = loss.borrow_and_update().clone();
        if now != last {
            feed.push_data_loss(now.clone(), sessions.now());
            last = now;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = loss.changed() => if changed.is_err() { return },
        }
    }
}
