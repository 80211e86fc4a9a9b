//! [`write_batch`]: writes a peer's ready outbound messages to its socket with one flush.
//!
//! A document that changes fast queues messages for each peer faster than one socket write per
//! message can carry them: a `send` per message is one system call per message per subscriber,
//! and in a burst to many subscribers those calls were most of the server's CPU. Instead the
//! socket loop, woken by one message, also takes what else is already queued (without waiting),
//! feeds them all to the WebSocket and flushes once. Order is kept (one queue, read in order),
//! and nothing is delayed: a batch is only what was ready when the first message arrived.

use axum::body::Bytes;
use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt};

/// The most messages written per flush, so one busy socket does not hold its task for long.
pub const MAX_BATCH_MESSAGES: usize = 256;

/// The most bytes written per flush (the WebSocket writes its buffer out past
/// [`super::buffers::WRITE_BUFFER_BYTES`] anyway; this bounds how long one batch takes).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Feeds `first`, then every message `ready` yields (up to [`MAX_BATCH_MESSAGES`] and
/// [`MAX_BATCH_BYTES`] in all), then flushes once. Returns how many messages were written.
///
/// `ready` must not wait: it is [`continuum_sync::Peer::try_next_outbound`] in the socket loop.
///
/// Not an `async fn`, so the future does not hold its arguments twice (rust-lang/rust#62958):
/// it sits inline in every socket's loop (see [`super::socket::serve_socket`]).
#[allow(clippy::manual_async_fn, reason = "an async fn would hold its arguments twice")]
pub fn write_batch<S>(
    sink: &mut S,
    first: Bytes,
    mut ready: impl FnMut() -> Option<Bytes>,
) -> impl Future<Output = Result<usize, S::Error>>
where
    S: Sink<Message> + Unpin,
{
    async move {
        let mut bytes = first.len();
        let mut written = 1;
        sink.feed(Message::Binary(first)).await?;
        while written < MAX_BATCH_MESSAGES && bytes < MAX_BATCH_BYTES {
            let Some(message) = ready() else { break };
            bytes += message.len();
            written += 1;
            sink.feed(Message::Binary(message)).await?;
        }
        sink.flush().await?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;

    /// A sink that records what it was fed and when it was flushed.
    #[derive(Default)]
    struct Recorder {
        /// Messages fed since the last flush.
        pending: Vec<Bytes>,
        /// One entry per flush: the messages it wrote.
        flushes: Vec<Vec<Bytes>>,
    }

    impl Sink<Message> for Recorder {
        type Error = Infallible;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Infallible> {
            let Message::Binary(bytes) = item else { panic!("only binary messages: {item:?}") };
            self.pending.push(bytes);
            Ok(())
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            let written = std::mem::take(&mut self.pending);
            self.flushes.push(written);
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            self.poll_flush(cx)
        }
    }

    fn messages(count: usize, size: usize) -> VecDeque<Bytes> {
        (0..count).map(|i| Bytes::from(vec![(i % 251) as u8; size])).collect()
    }

    #[tokio::test]
    async fn everything_ready_goes_out_in_order_with_one_flush() {
        let mut queue = messages(10, 3);
        let expected: Vec<Bytes> = queue.iter().cloned().collect();
        let mut sink = Recorder::default();
        let first = queue.pop_front().unwrap();
        let written = write_batch(&mut sink, first, || queue.pop_front()).await.unwrap();
        assert_eq!(written, 10);
        assert_eq!(sink.flushes, vec![expected], "one flush, every message, in queue order");
        assert!(sink.pending.is_empty(), "nothing left unflushed");
    }

    #[tokio::test]
    async fn a_lone_message_is_flushed_at_once() {
        let mut sink = Recorder::default();
        let written = write_batch(&mut sink, Bytes::from_static(b"one"), || None).await.unwrap();
        assert_eq!(written, 1);
        assert_eq!(sink.flushes, vec![vec![Bytes::from_static(b"one")]]);
    }

    #[tokio::test]
    async fn a_long_backlog_is_cut_into_bounded_batches_that_lose_nothing() {
        let total = MAX_BATCH_MESSAGES * 2 + 5;
        let mut queue = messages(total, 1);
        let expected: Vec<Bytes> = queue.iter().cloned().collect();
        let mut sink = Recorder::default();
        while let Some(first) = queue.pop_front() {
            write_batch(&mut sink, first, || queue.pop_front()).await.unwrap();
        }
        let sizes: Vec<usize> = sink.flushes.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![MAX_BATCH_MESSAGES, MAX_BATCH_MESSAGES, 5]);
        assert_eq!(sink.flushes.concat(), expected, "every message once, in order");
    }

    #[tokio::test]
    async fn a_batch_stops_once_it_holds_enough_bytes() {
        let size = MAX_BATCH_BYTES / 4;
        let mut queue = messages(10, size);
        let mut sink = Recorder::default();
        let first = queue.pop_front().unwrap();
        let written = write_batch(&mut sink, first, || queue.pop_front()).await.unwrap();
        assert_eq!(written, 4, "stops at the first message that reaches the byte bound");
        assert_eq!(queue.len(), 6, "the rest stays queued for the next batch");
    }
}
