//! A reader of `text/event-stream` over a raw socket. The request is HTTP/1.0, so the answer's
//! body is the bytes until the connection closes (no chunked framing to undo).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// One event as received.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
    /// The raw lines, to check what never appears.
    pub raw: String,
}

pub struct SseReader {
    pub status: u16,
    lines: BufReader<TcpStream>,
}

impl SseReader {
    /// `GET path` with `headers`; reads the status line and the headers.
    pub async fn open(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Self {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut lines = BufReader::new(stream);
        let mut status_line = String::new();
        lines.read_line(&mut status_line).await.expect("status line");
        let status = status_line.get(9..12).and_then(|code| code.parse().ok()).expect("a status");
        loop {
            let mut header = String::new();
            lines.read_line(&mut header).await.expect("header");
            if header.trim().is_empty() {
                break;
            }
        }
        Self { status, lines }
    }

    /// The rest of the body (for error answers).
    pub async fn body(mut self) -> String {
        let mut body = String::new();
        while self.lines.read_line(&mut body).await.is_ok_and(|read| read > 0) {}
        body
    }

    /// The next event (comments skipped), or `None` if none comes within `limit` or the stream ends.
    pub async fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        tokio::time::timeout(limit, self.read_event()).await.ok().flatten()
    }

    async fn read_event(&mut self) -> Option<SseEvent> {
        let mut event = SseEvent::default();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            event.raw.push_str(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() && event.event.is_empty() {
                    event.raw.clear();
                    continue;
                }
                event.data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(event);
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => event.id = Some(value.to_owned()),
                "event" => event.event = value.to_owned(),
                "data" => data.push_str(value),
                _ => {}
            }
        }
    }
}
