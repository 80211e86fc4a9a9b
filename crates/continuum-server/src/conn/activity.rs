//! [`Activity`]: one connection's [`Phase`], fed by its reads ([`WatchedIo`]) and its answers
//! ([`Answered`], carried by each response body), and watched by the connection's task.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit};

use super::phase::{Phase, Timeouts, wakes_watcher};

/// One connection's phase, shared by its reads, its answers and its watcher.
#[derive(Debug)]
pub struct Activity {
    watch: Mutex<Watch>,
    timeouts: Timeouts,
    /// Woken when the deadline came earlier than the watcher's timer; a wake with no waiter is
    /// kept for the next wait, so none is lost.
    changed: Notify,
}

/// The phase and the time the watcher's timer is armed for.
#[derive(Debug)]
struct Watch {
    phase: Phase,
    armed: Option<Instant>,
}

impl Activity {
    /// A connection accepted at `now`, closed by `timeouts`.
    pub fn new(now: Instant, timeouts: Timeouts) -> Self {
        Self {
            watch: Mutex::new(Watch { phase: Phase::new(now), armed: None }),
            timeouts,
            changed: Notify::new(),
        }
    }

    fn update<T>(&self, change: impl FnOnce(&mut Watch) -> T) -> T {
        let mut watch = self.watch.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut watch)
    }

    /// Applies a phase change and wakes the watcher if the deadline came earlier than its timer.
    fn transition(&self, change: impl FnOnce(&mut Phase) -> bool) {
        let wake = self.update(|watch| {
            change(&mut watch.phase) && wakes_watcher(watch.phase.deadline(&self.timeouts), watch.armed)
        });
        if wake {
            self.changed.notify_one();
        }
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        self.update(|watch| watch.phase)
    }

    /// When the connection must close if nothing happens (`None` while busy), recorded as the
    /// time the watcher arms its timer for.
    pub fn arm(&self) -> Option<Instant> {
        self.update(|watch| {
            watch.armed = watch.phase.deadline(&self.timeouts);
            watch.armed
        })
    }

    /// The timeouts this connection is held to.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// Resolves when the deadline may have moved earlier.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// A request was dispatched: the returned guard marks its answer finished when dropped.
    pub fn request(self: &Arc<Self>) -> Answered {
        self.update(|watch| watch.phase.on_request());
        Answered { activity: Arc::clone(self) }
    }

    fn read(&self) {
        self.transition(|phase| phase.on_read(Instant::now()));
    }
}

/// Held by an answer's body: dropping it (the body written, or abandoned) ends the answer.
#[derive(Debug)]
pub struct Answered {
    activity: Arc<Activity>,
}

impl Drop for Answered {
    fn drop(&mut self) {
        self.activity.transition(|phase| phase.on_answered(Instant::now()));
    }
}

/// A response body that ends its answer (through [`Answered`]) when it is dropped; an event
/// stream's body lives as long as the stream, so the connection is busy, never idle.
#[derive(Debug)]
pub struct Tracked<B> {
    /// The app's body.
    pub body: B,
    /// Dropped with the body.
    pub answered: Answered,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket that reports its reads to its [`Activity`] and holds the
/// connection's place under the cap: the place is freed when the socket closes, also after an
/// upgrade (a sync socket keeps it for its whole life).
#[derive(Debug)]
pub struct WatchedIo<T> {
    io: T,
    activity: Arc<Activity>,
    _place: OwnedSemaphorePermit,
}

impl<T> WatchedIo<T> {
    /// `io`, reporting to `activity`, holding `place`.
    pub fn new(io: T, activity: Arc<Activity>, place: OwnedSemaphorePermit) -> Self {
        Self { io, activity, _place: place }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
