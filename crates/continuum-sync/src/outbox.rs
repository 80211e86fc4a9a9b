//! [`Outbox`]: a peer's bounded outbound queue, which holds no memory while it is empty.
//!
//! A tokio `mpsc` channel allocates its first block of 32 slots (1 KiB for [`Bytes`]) when it is
//! created and keeps one or two such blocks for its whole life: on a document with 1,000 open
//! sockets that was 1–2 KiB of every socket's memory, for queues that are empty nearly all the
//! time. The outbox is a `VecDeque` behind a mutex that starts empty and gives its buffer back
//! whenever a backlog drains, and a [`Notify`] for its one reader.
//!
//! One writer side (the document, under its own lock) and one reader (the peer's transport).
//! A push onto a full outbox fails: the document then detaches the peer (see
//! [`crate::Peer`]); nothing is ever dropped silently or queued past the capacity.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

/// A backlog buffer larger than this many slots is given back once the backlog has drained.
const KEEP_SLOTS: usize = 8;

/// Why a push failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The outbox holds its capacity: the reader is too slow.
    Full,
    /// The outbox was closed; the reader is gone or was let go.
    Closed,
}

/// The queued messages, and whether more may come.
#[derive(Default)]
struct Queue {
    messages: VecDeque<Bytes>,
    closed: bool,
}

/// A bounded queue of outbound messages for one peer.
pub(crate) struct Outbox {
    /// Never held across `.await`.
    queue: Mutex<Queue>,
    /// Woken on every push and on close; a wake-up with no reader waiting is kept for the next
    /// wait (a `Notify` permit), so none is lost between the reader's check and its wait.
    ready: Notify,
    capacity: usize,
}

impl Outbox {
    /// An empty outbox holding at most `capacity` messages (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { queue: Mutex::new(Queue::default()), ready: Notify::new(), capacity: capacity.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while held cannot leave the queue half-changed: take it over.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `message` unless the outbox is full or closed.
    pub fn try_push(&self, message: Bytes) -> Result<(), PushError> {
        let mut queue = self.lock();
        if queue.closed {
            return Err(PushError::Closed);
        }
        if queue.messages.len() >= self.capacity {
            return Err(PushError::Full);
        }
        queue.messages.push_back(message);
        drop(queue);
        self.ready.notify_one();
        Ok(())
    }

    /// The oldest queued message, without waiting; `None` if there is none or the outbox is
    /// closed.
    pub fn try_pop(&self) -> Option<Bytes> {
        let mut queue = self.lock();
        let message = queue.messages.pop_front();
        if queue.messages.is_empty() && queue.messages.capacity() > KEEP_SLOTS {
            queue.messages = VecDeque::new();
        }
        message
    }

    /// The oldest queued message, waiting for one; `None` once the outbox is closed. Cancel
    /// safe: a message is taken only by the poll that returns it.
    pub async fn pop(&self) -> Option<Bytes> {
        loop {
            {
                let queue = self.lock();
                if queue.closed {
                    return None;
                }
            }
            if let Some(message) = self.try_pop() {
                return Some(message);
            }
            self.ready.notified().await;
        }
    }

    /// Closes the outbox: what it holds is dropped, later pushes fail, and the reader gets
    /// `None`.
    pub fn close(&self) {
        let mut queue = self.lock();
        queue.closed = true;
        queue.messages = VecDeque::new();
        drop(queue);
        self.ready.notify_one();
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn message(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn messages_come_out_in_order_up_to_the_capacity() {
        let outbox = Outbox::new(3);
        for n in 0..3 {
            outbox.try_push(message(n)).unwrap();
        }
        assert_eq!(outbox.try_push(message(9)), Err(PushError::Full), "full is refused, not dropped");
        assert_eq!(outbox.len(), 3);
        let drained: Vec<Bytes> = std::iter::from_fn(|| outbox.try_pop()).collect();
        assert_eq!(drained, vec![message(0), message(1), message(2)]);
        assert_eq!(outbox.try_pop(), None);
        outbox.try_push(message(3)).unwrap();
        assert_eq!(outbox.try_pop(), Some(message(3)), "room again once drained");
    }

    #[test]
    fn a_drained_backlog_gives_its_buffer_back() {
        let outbox = Outbox::new(1024);
        assert_eq!(outbox.lock().messages.capacity(), 0, "nothing allocated while empty");
        for n in 0..200 {
            outbox.try_push(message(n as u8)).unwrap();
        }
        while outbox.try_pop().is_some() {}
        assert_eq!(outbox.lock().messages.capacity(), 0);
    }

    #[test]
    fn closing_drops_what_is_queued_and_refuses_more() {
        let outbox = Outbox::new(4);
        outbox.try_push(message(1)).unwrap();
        outbox.close();
        assert_eq!(outbox.try_pop(), None);
        assert_eq!(outbox.try_push(message(2)), Err(PushError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_for_a_push_and_for_a_close() {
        let outbox = Arc::new(Outbox::new(4));
        let reader = tokio::spawn({
            let outbox = Arc::clone(&outbox);
            async move { (outbox.pop().await, outbox.pop().await) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        outbox.try_push(message(7)).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        outbox.close();
        let (first, second) = tokio::time::timeout(Duration::from_secs(5), reader).await.unwrap().unwrap();
        assert_eq!(first, Some(message(7)));
        assert_eq!(second, None);
    }

    #[tokio::test]
    async fn a_cancelled_wait_loses_nothing() {
        let outbox = Outbox::new(4);
        assert!(tokio::time::timeout(Duration::from_millis(10), outbox.pop()).await.is_err());
        outbox.try_push(message(5)).unwrap();
        assert_eq!(outbox.pop().await, Some(message(5)));
    }
}
