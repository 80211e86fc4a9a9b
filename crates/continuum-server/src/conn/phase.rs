//! [`Phase`]: where one HTTP/1 connection is between requests, and when it must be closed —
//! pure decisions, the time passed in.
//!
//! hyper's own `header_read_timeout` starts as soon as a connection waits for a request, so it
//! cannot give an idle keep-alive connection longer than a slow header: this state machine
//! tells the two apart, from what the connection's reads and answers report.

use std::time::{Duration, Instant};

/// The two timeouts of a connection between requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// From a request's first byte (or a new connection's start) to its dispatch.
    pub header_read: Duration,
    /// From an answer's end to the next request's first byte.
    pub idle: Duration,
}

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No byte of the next request yet, since `since`. `fresh`: no request yet on this
    /// connection, so its first must arrive within the header read timeout.
    Waiting {
        /// When the wait began.
        since: Instant,
        /// Whether the connection has served nothing yet.
        fresh: bool,
    },
    /// Bytes of a request's header arrived, the first at `since`; not dispatched yet.
    Header {
        /// When its first byte arrived.
        since: Instant,
    },
    /// `requests` answers are being produced or written (a sync socket's upgrade, an event
    /// stream and a slow handler alike): never timed out here.
    Busy {
        /// Answers in progress.
        requests: usize,
    },
}

impl Phase {
    /// A connection accepted at `now`.
    pub fn new(now: Instant) -> Self {
        Phase::Waiting { since: now, fresh: true }
    }

    /// Bytes were read at `now`. Returns whether the deadline moved earlier (the watcher must
    /// look again).
    pub fn on_read(&mut self, now: Instant) -> bool {
        match *self {
            Phase::Waiting { .. } => {
                *self = Phase::Header { since: now };
                true
            }
            Phase::Header { .. } | Phase::Busy { .. } => false,
        }
    }

    /// A request was dispatched to the app.
    pub fn on_request(&mut self) {
        *self = match *self {
            Phase::Busy { requests } => Phase::Busy { requests: requests + 1 },
            Phase::Waiting { .. } | Phase::Header { .. } => Phase::Busy { requests: 1 },
        };
    }

    /// An answer finished (written, or dropped) at `now`. Returns whether the connection now
    /// has a deadline again (the watcher must look again).
    pub fn on_answered(&mut self, now: Instant) -> bool {
        match *self {
            Phase::Busy { requests } if requests > 1 => {
                *self = Phase::Busy { requests: requests - 1 };
                false
            }
            Phase::Busy { .. } => {
                *self = Phase::Waiting { since: now, fresh: false };
                true
            }
            Phase::Waiting { .. } | Phase::Header { .. } => false,
        }
    }

    /// When the connection must be closed if nothing happens, `None` while it is busy.
    pub fn deadline(&self, timeouts: &Timeouts) -> Option<Instant> {
        match *self {
            Phase::Waiting { since, fresh: true } | Phase::Header { since } => {
                Some(since + timeouts.header_read)
            }
            Phase::Waiting { since, fresh: false } => Some(since + timeouts.idle),
            Phase::Busy { .. } => None,
        }
    }

    /// Why a connection in this phase is closed at its deadline, for the log.
    pub fn reason(&self) -> &'static str {
        match self {
            Phase::Waiting { fresh: true, .. } => "no request within the header read timeout",
            Phase::Header { .. } => "request header not complete within the header read timeout",
            Phase::Waiting { fresh: false, .. } => "idle keep-alive connection past the idle timeout",
            Phase::Busy { .. } => "busy",
        }
    }
}

/// Whether a watcher whose timer is armed for `armed` (`None`: no timer) must be woken to re-arm
/// it for `deadline`: only when the deadline came earlier than the timer (or there is none yet).
/// A later deadline needs no wake-up: the timer fires at the earlier time, finds the connection
/// not yet due, and re-arms for the later one. Under steady load a connection's watcher so
/// wakes about once per header read timeout instead of twice per request.
pub fn wakes_watcher(deadline: Option<Instant>, armed: Option<Instant>) -> bool {
    match (deadline, armed) {
        (Some(deadline), Some(armed)) => deadline < armed,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watcher_is_woken_only_for_an_earlier_deadline() {
        let t0 = Instant::now();
        assert!(wakes_watcher(Some(at(t0, 10)), None), "nothing armed");
        assert!(wakes_watcher(Some(at(t0, 10)), Some(at(t0, 60))), "earlier than the timer");
        assert!(!wakes_watcher(Some(at(t0, 60)), Some(at(t0, 10))), "the timer fires first");
        assert!(!wakes_watcher(Some(at(t0, 10)), Some(at(t0, 10))));
        assert!(!wakes_watcher(None, Some(at(t0, 10))), "busy: the timer finds nothing due");
        assert!(!wakes_watcher(None, None));
    }

    const TIMEOUTS: Timeouts =
        Timeouts { header_read: Duration::from_secs(10), idle: Duration::from_secs(60) };

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn a_silent_connection_gets_the_header_read_timeout() {
        let t0 = Instant::now();
        let phase = Phase::new(t0);
        assert_eq!(phase.deadline(&TIMEOUTS), Some(at(t0, 10)));
    }

    #[test]
    fn a_header_started_late_on_an_idle_connection_gets_the_header_timeout_from_its_first_byte() {
        let t0 = Instant::now();
        let mut phase = Phase::new(t0);
        assert!(phase.on_read(at(t0, 1)));
        assert!(!phase.on_read(at(t0, 5)), "later bytes do not extend it");
        assert_eq!(phase.deadline(&TIMEOUTS), Some(at(t0, 11)));
        phase.on_request();
        assert_eq!(phase.deadline(&TIMEOUTS), None, "a request in progress is never cut");
        assert!(!phase.on_read(at(t0, 20)), "its body");
        assert!(phase.on_answered(at(t0, 30)));
        assert_eq!(phase.deadline(&TIMEOUTS), Some(at(t0, 90)), "then idle keep-alive");
        assert!(phase.on_read(at(t0, 80)));
        assert_eq!(phase.deadline(&TIMEOUTS), Some(at(t0, 90)), "a slow second header");
        assert_eq!(phase.reason(), "request header not complete within the header read timeout");
    }

    #[test]
    fn overlapping_answers_keep_the_connection_busy_until_the_last() {
        let t0 = Instant::now();
        let mut phase = Phase::new(t0);
        phase.on_request();
        phase.on_request();
        assert!(!phase.on_answered(at(t0, 1)));
        assert_eq!(phase.deadline(&TIMEOUTS), None);
        assert!(phase.on_answered(at(t0, 2)));
        assert_eq!(phase, Phase::Waiting { since: at(t0, 2), fresh: false });
        assert!(!phase.on_answered(at(t0, 3)), "a stray end changes nothing");
    }
}
