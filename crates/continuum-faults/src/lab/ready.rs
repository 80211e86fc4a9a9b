//! Readiness probes: [`wait_http_ready`] polls a plain HTTP/1.1 `GET` until a 200 arrives, and
//! [`http_status`] makes one such request. No HTTP client crate: one request line and one
//! status line are all a probe needs.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long one probe of [`wait_http_ready`] may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// The pause between probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

/// Why one probe did not see a 200.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Connecting, writing or reading failed.
    #[error("the request failed")]
    Io(#[from] io::Error),
    /// No status line within the probe's time.
    #[error("no answer in time")]
    Timeout,
    /// The answer does not start with an HTTP status line.
    #[error("not an HTTP answer: {line:?}")]
    Malformed {
        /// What came instead.
        line: String,
    },
    /// An answer, but not a 200.
    #[error("answered {status}")]
    Status {
        /// The status code.
        status: u16,
    },
}

/// Why a server did not become ready.
#[derive(Debug, thiserror::Error)]
#[error("http://{addr}{path} did not answer 200 within {waited:?}")]
pub struct NotReady {
    /// The server.
    pub addr: SocketAddr,
    /// The path probed.
    pub path: String,
    /// How long it was given.
    pub waited: Duration,
    /// The last probe's failure.
    #[source]
    pub last: ProbeError,
}

/// Polls `GET path` on `addr` until it answers 200, for at most `timeout`.
pub async fn wait_http_ready(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(), NotReady> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let last = match http_status(addr, path, left.min(PROBE_TIMEOUT)).await {
            Ok(200) => return Ok(()),
            Ok(status) => ProbeError::Status { status },
            Err(error) => error,
        };
        if Instant::now() + PROBE_INTERVAL >= deadline {
            return Err(NotReady { addr, path: path.to_owned(), waited: timeout, last });
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// One `GET path` on `addr` (with `Connection: close`): the status code, within `timeout`.
pub async fn http_status(addr: SocketAddr, path: &str, timeout: Duration) -> Result<u16, ProbeError> {
    let request = async {
        let mut stream = TcpStream::connect(addr).await?;
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await?;
        Ok::<_, io::Error>(line)
    };
    let line = tokio::time::timeout(timeout, request).await.map_err(|_| ProbeError::Timeout)??;
    status_code(&line).ok_or(ProbeError::Malformed { line })
}

/// The code of a status line such as `HTTP/1.1 200 OK`.
fn status_code(line: &str) -> Option<u16> {
    let mut words = line.split_ascii_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_and_anything_else_is_not() {
        assert_eq!(status_code("HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(status_code("HTTP/1.0 503 Service Unavailable"), Some(503));
        assert_eq!(status_code("SSH-2.0-OpenSSH"), None);
        assert_eq!(status_code(""), None);
        assert_eq!(status_code("HTTP/1.1 abc"), None);
    }
}
