//! A TCP relay between two processes that a test can cut *silently*: while cut, bytes are read
//! and dropped in both directions and new connections are accepted and held, so neither side
//! sees a FIN or a reset — only silence, as with a lost route. Healing closes the connections
//! that were cut and forwards new ones again.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
struct State {
    cut: AtomicBool,
    /// Bumped by each heal: connections of an older generation close.
    generation: AtomicU64,
    stopped: AtomicBool,
}

/// A relay from a loopback port to `target`.
pub struct Relay {
    pub addr: String,
    state: Arc<State>,
}

impl Relay {
    pub fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new(State::default());
        let (target, accepting) = (target.to_owned(), Arc::clone(&state));
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if accepting.stopped.load(Ordering::SeqCst) {
                    return;
                }
                if accepting.cut.load(Ordering::SeqCst) {
                    held.push(client); // accepted, never answered
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&target) else { continue };
                let generation = accepting.generation.load(Ordering::SeqCst);
                pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap(), generation, &accepting);
                pipe(upstream, client, generation, &accepting);
            }
        });
        Relay { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on nothing passes, and nobody is told.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
    }

    /// Connections cut close; new ones are forwarded.
    pub fn heal(&self) {
        self.state.generation.fetch_add(1, Ordering::SeqCst);
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.state.generation.fetch_add(1, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr); // wakes the accept loop
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, generation: u64, state: &Arc<State>) {
    let state = Arc::clone(state);
    from.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            if state.generation.load(Ordering::SeqCst) != generation {
                break;
            }
            let read = match from.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(_) => break,
            };
            if state.cut.load(Ordering::SeqCst) {
                continue; // dropped on the floor
            }
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
