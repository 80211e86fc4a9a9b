//! `/readyz` follows the store: it fails while a Redis the server runs on is down and recovers
//! when it is back, without a server restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestServer, config};
use continuum_backends::StoreConfig;
use hyper::StatusCode;

/// A private redis-server on `port`, killed on drop.
struct Redis(Child);

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/services.sh installs it)");
        Self(child)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn ready_within(server: &TestServer, want: StatusCode, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if server.get("/readyz", &[]).await.status == want {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_store() {
    let port = free_port();
    let redis = Redis::start(port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = StoreConfig::Redis(format!("redis://127.0.0.1:{port}"));
    let server = TestServer::start_on(config(dir.path()), &store).await;
    assert!(ready_within(&server, StatusCode::OK, Duration::from_secs(2)).await);

    drop(redis);
    assert!(
        ready_within(&server, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(10)).await,
        "not ready while Redis is down"
    );
    assert_eq!(server.get("/healthz", &[]).await.status, StatusCode::OK, "alive all the same");

    let _redis = Redis::start(port);
    assert!(
        ready_within(&server, StatusCode::OK, Duration::from_secs(15)).await,
        "ready again once Redis is back"
    );
    server.stop().await;
}
