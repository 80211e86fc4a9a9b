//! [`keep_listening`]: the subscription loop every shared-store bus runs — subscribe, deliver
//! what is heard to the [`Inbox`], and after a broken connection subscribe again with backoff
//! and report a [`crate::Heard::Gap`], since whatever was published meanwhile is lost.
//!
//! The transports differ only in how they subscribe and read (Redis pub/sub, PostgreSQL
//! `LISTEN`); they supply that as a [`Subscription`] and share this loop.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::Inbox;

/// The first wait before subscribing again, doubled after every failed attempt.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait between two attempts to subscribe again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One live subscription of a bus transport.
#[async_trait]
pub trait Subscription: Send {
    /// The next payload heard, or `None` once the connection is lost. A transport that drops
    /// a message it cannot read (not text) logs it and reads on.
    async fn next(&mut self) -> Option<String>;
}

/// The wait before the next attempt: [`FIRST_BACKOFF`] doubled per failure, at most
/// [`MAX_BACKOFF`].
pub fn backoff_after(failures: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(1u32 << failures.min(16)).min(MAX_BACKOFF)
}

/// Subscribes with `subscribe` and delivers every payload to `inbox`, for as long as the
/// returned future is polled: the caller stops it by dropping it (e.g. in a `select!` with its
/// cancellation), which drops the subscription too.
///
/// The first attempt's outcome goes to `ready`; if it fails, the loop ends there (the caller
/// reports the error, e.g. a store that cannot be reached at start). Every later
/// subscription, after a lost connection, is announced to the inbox as a gap.
pub async fn keep_listening<S, E, F, Fut>(
    channel: &str,
    inbox: &Inbox,
    ready: oneshot::Sender<Result<(), E>>,
    mut subscribe: F,
) where
    S: Subscription,
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, E>>,
{
    let mut ready = Some(ready);
    let mut failures = 0;
    loop {
        match subscribe().await {
            Ok(mut subscription) => {
                match ready.take() {
                    Some(ready) => {
                        let _ = ready.send(Ok(()));
                    }
                    None => {
                        tracing::info!(%channel, "bus subscription re-established; catching up");
                        inbox.gap();
                    }
                }
                failures = 0;
                while let Some(payload) = subscription.next().await {
                    inbox.deliver(&payload);
                }
                tracing::warn!(%channel, "bus subscription lost; subscribing again");
            }
            Err(error) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                    return;
                }
                tracing::warn!(%channel, %error, "subscribing to the bus failed; retrying");
                failures += 1;
            }
        }
        tokio::time::sleep(backoff_after(failures)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::bus::{Heard, Notice, encode};

    /// A subscription that yields its payloads, then reports the connection lost.
    struct Scripted(VecDeque<String>);

    #[async_trait]
    impl Subscription for Scripted {
        async fn next(&mut self) -> Option<String> {
            self.0.pop_front()
        }
    }

    fn notice(principal: &str) -> Notice {
        Notice::SignedOutEverywhere { principal: continuum_core::Principal::parse(principal).unwrap() }
    }

    #[test]
    fn backoff_doubles_up_to_its_bound() {
        assert_eq!(backoff_after(0), FIRST_BACKOFF);
        assert_eq!(backoff_after(1), FIRST_BACKOFF * 2);
        assert_eq!(backoff_after(3), FIRST_BACKOFF * 8);
        assert_eq!(backoff_after(10), MAX_BACKOFF);
        assert_eq!(backoff_after(u32::MAX), MAX_BACKOFF);
    }

    #[tokio::test]
    async fn a_first_failure_ends_the_loop_with_its_error() {
        let inbox = Inbox::new(1);
        let (ready, outcome) = oneshot::channel();
        let attempts = Mutex::new(0);
        keep_listening::<Scripted, _, _, _>("c", &inbox, ready, || {
            *attempts.lock().unwrap() += 1;
            async { Err("refused") }
        })
        .await;
        assert_eq!(outcome.await.unwrap(), Err("refused"));
        assert_eq!(*attempts.lock().unwrap(), 1);
    }

    /// Payloads reach the inbox in order; a lost connection and a failed attempt later (about
    /// 300 ms of real backoff), the next subscription is announced as a gap, then its payloads
    /// follow.
    #[tokio::test]
    async fn payloads_are_delivered_and_a_resubscription_is_a_gap() {
        let inbox = Arc::new(Inbox::new(1));
        let mut heard = inbox.subscribe();
        let (first, second) = (notice("alice"), notice("bob"));
        let mut attempts = VecDeque::from([
            Ok(Scripted(VecDeque::from([encode(7, &first, 4096)]))),
            Err("down"),
            Ok(Scripted(VecDeque::from([encode(7, &second, 4096), encode(1, &notice("carol"), 4096)]))),
        ]);
        let (ready, outcome) = oneshot::channel();
        let listening = {
            let inbox = Arc::clone(&inbox);
            tokio::spawn(async move {
                keep_listening("c", &inbox, ready, move || {
                    let next = attempts.pop_front().unwrap_or(Err("no more"));
                    async move { next }
                })
                .await;
            })
        };
        assert_eq!(outcome.await.unwrap(), Ok(()));
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(heard.recv().await.unwrap());
        }
        listening.abort();
        match got.as_slice() {
            [Heard::Notice(a), Heard::Gap, Heard::Notice(b)] => {
                assert_eq!(**a, first);
                assert_eq!(**b, second);
            }
            other => panic!("heard {other:?}"),
        }
        // The third payload came from this node (origin 1) and was dropped.
        assert!(heard.try_recv().is_err());
    }
}
