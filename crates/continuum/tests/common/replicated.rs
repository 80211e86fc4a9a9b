//! Replicated clusters of `continuum serve` processes: free loopback ports for gossip, and `n`
//! nodes started together.

use std::net::SocketAddr;

use super::{Server, path};

/// A loopback port free for both TCP and UDP (bound, then released).
pub fn free_addr() -> SocketAddr {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        if std::net::UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// The id of node `i` of [`start_nodes`].
pub fn node_id(i: usize) -> String {
    format!("node-{i}")
}

/// `dirs.len()` nodes with one backup each, started together (each becomes ready once it sees a
/// quorum), with `key` as their API key.
pub fn start_nodes(dirs: &[tempfile::TempDir], key: &'static str) -> Vec<Server> {
    let addrs: Vec<SocketAddr> = dirs.iter().map(|_| free_addr()).collect();
    let starts: Vec<_> = (0..dirs.len())
        .map(|i| {
            let peers: Vec<String> =
                addrs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.to_string()).collect();
            let (data, listen) = (path(dirs[i].path()).to_owned(), addrs[i].to_string());
            std::thread::spawn(move || {
                let (id, peers) = (node_id(i), peers.join(","));
                let args = [
                    "--data",
                    &data,
                    "--store",
                    "replicated",
                    "--node-id",
                    &id,
                    "--cluster-listen",
                    &listen,
                    "--peers",
                    &peers,
                    "--replicas",
                    "1",
                ];
                Server::start(&args, &[("CONTINUUM_API_KEY", key)])
            })
        })
        .collect();
    starts.into_iter().map(|start| start.join().expect("a node started")).collect()
}
