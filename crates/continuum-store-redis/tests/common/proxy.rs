//! A TCP proxy in front of a Redis server that records the name of every command a client
//! sends, by parsing the RESP arrays on their way to the server. It sees exactly what the store
//! puts on the wire, and none of what the server's scripts run inside.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy; it runs until the test's runtime ends.
pub struct CountingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    taken: Mutex<Vec<String>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards every connection to `127.0.0.1:<target>`.
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let recorder = Arc::clone(&recorder);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await {
                        forward(client, server, recorder).await;
                    }
                });
            }
        });
        Self { port, seen, taken: Mutex::default() }
    }

    /// `redis://127.0.0.1:<proxy port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The commands sent since the last call, upper case, in order.
    pub fn take(&self) -> Vec<String> {
        let commands = std::mem::take(&mut *self.seen.lock().expect("commands"));
        self.taken.lock().expect("taken").extend(commands.iter().cloned());
        commands
    }

    /// How many `name` commands went through since the proxy started.
    pub fn total(&self, name: &str) -> usize {
        self.take();
        self.taken.lock().expect("taken").iter().filter(|command| *command == name).count()
    }
}

async fn forward(client: TcpStream, server: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = async move {
        let mut pending = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&chunk[..n]);
            // Recorded before forwarding, so a command is counted before its answer exists.
            while let Some((name, used)) = parse_command(&pending) {
                seen.lock().expect("commands").push(name);
                pending.drain(..used);
            }
            if server_write.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
    };
    let answers = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    };
    tokio::join!(requests, answers);
}

/// One complete RESP command at the start of `buffer`: its name and its length in bytes.
fn parse_command(buffer: &[u8]) -> Option<(String, usize)> {
    let (count, mut at) = line(buffer, 0, b'*')?;
    let mut name = None;
    for _ in 0..count {
        let (len, start) = line(buffer, at, b'$')?;
        let end = start + usize::try_from(len).ok()?;
        if buffer.len() < end + 2 {
            return None;
        }
        name.get_or_insert_with(|| String::from_utf8_lossy(&buffer[start..end]).to_uppercase());
        at = end + 2;
    }
    Some((name.unwrap_or_default(), at))
}

/// A `<marker><number>\r\n` line at `at`: the number and where the next line starts.
fn line(buffer: &[u8], at: usize, marker: u8) -> Option<(i64, usize)> {
    if buffer.get(at) != Some(&marker) {
        return None;
    }
    let end = buffer[at..].windows(2).position(|pair| pair == b"\r\n")? + at;
    let number = std::str::from_utf8(&buffer[at + 1..end]).ok()?.parse().ok()?;
    Some((number, end + 2))
}
