//! The request reader of the tests' stub nodes: plain HTTP/1 over a kept-alive connection.

use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

/// Reads the next request from `tcp` — its head, then as many body bytes as its
/// `Content-Length` says — leaving what follows in `read`. Returns the head in lower case, or
/// `None` once the connection closed or failed.
pub async fn next_request(tcp: &mut TcpStream, read: &mut Vec<u8>) -> Option<String> {
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match tcp.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&read[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while read.len() < head_end + length {
        match tcp.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
    }
    read.drain(..head_end + length);
    Some(head)
}
