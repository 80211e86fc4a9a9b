//! What each operation puts on the wire, counted by a proxy in front of a private redis-server
//! that nothing else uses: the validate path's read is one `HMGET`, every write one `EVALSHA`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::proxy::CountingProxy;
use common::server::RedisProcess;
use common::{connect, random_prefix};
use continuum_core::{ManualClock, NewSession, Principal};
use continuum_store::testkit::START;
use continuum_store::testkit::docs::doc;
use continuum_store::{DocStore, SessionStore, Sessions};
use serde_json::json;

fn ask() -> NewSession {
    NewSession {
        principal: Some(Principal::parse("alice").expect("principal")),
        idle_timeout_secs: Some(1000),
        absolute_timeout_secs: Some(10_000),
        ..NewSession::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validate_path_reads_once_and_every_write_is_one_command() {
    let server = RedisProcess::start(&[]);
    let proxy = CountingProxy::start(server.port).await;
    let store = connect(&proxy.url(), random_prefix()).await;
    let clock = ManualClock::new(START);
    let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(clock.clone()));
    proxy.take(); // connecting: CLIENT SETINFO, PING, SCRIPT LOAD …

    let (created, token) = sessions.create(ask()).await.expect("create");
    assert_eq!(proxy.take(), ["EVALSHA"], "create: the insert script, indexes included");

    sessions.validate(&token).await.expect("validate");
    assert_eq!(proxy.take(), ["HMGET"], "a validation without a due touch is one read");

    clock.advance(Duration::from_secs(500));
    sessions.validate(&token).await.expect("validate");
    assert_eq!(proxy.take(), ["HMGET", "EVALSHA"], "a due touch: the read, then one write");

    store.get(&created.sid).await.expect("get");
    assert_eq!(proxy.take(), ["HMGET"]);

    store.touch(&created.sid, START + Duration::from_secs(600)).await.expect("touch");
    assert_eq!(proxy.take(), ["EVALSHA"]);

    sessions.patch_attributes(&created.sid, &json!({"step": 2}), Some(1)).await.expect("patch");
    assert_eq!(proxy.take(), ["HMGET", "EVALSHA"], "a patch: the read, then one compare-and-swap");

    let current = store.get(&created.sid).await.expect("get").expect("present");
    proxy.take();
    let next = continuum_core::SessionRecord { version: current.version + 1, ..(*current).clone() };
    store.replace(current.version, Arc::new(next)).await.expect("replace");
    assert_eq!(proxy.take(), ["EVALSHA"]);

    sessions.revoke(&created.sid).await.expect("revoke");
    assert_eq!(proxy.take(), ["HMGET", "EVALSHA"]);

    let key = doc("user:alice", "form");
    store.append(&key, b"u1".to_vec()).await.expect("append");
    assert_eq!(proxy.take(), ["EVALSHA"], "append");
    store.compact(&key, b"s".to_vec(), 1).await.expect("compact");
    assert_eq!(proxy.take(), ["EVALSHA"], "compact");
    store.save_version(&key, "v".into(), START, b"s".to_vec()).await.expect("save_version");
    assert_eq!(proxy.take(), ["EVALSHA"], "save_version");
    store.load(&key).await.expect("load");
    assert_eq!(proxy.take(), ["EVALSHA"], "load: snapshot, updates and last_seq in one read");

    // The server agrees with the proxy: it ran exactly the scripts the proxy saw.
    assert_eq!(server_calls(&server, "evalsha"), proxy.total("EVALSHA"));
}

/// `calls` of `cmdstat_<command>` in the server's `INFO commandstats`.
fn server_calls(server: &RedisProcess, command: &str) -> usize {
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut server.connect()).expect("INFO");
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_lost_its_scripts_gets_them_again_on_first_use() {
    let server = RedisProcess::start(&[]);
    let proxy = CountingProxy::start(server.port).await;
    let store = connect(&proxy.url(), random_prefix()).await;
    let clock = ManualClock::new(START);
    let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(clock));
    let (created, _) = sessions.create(ask()).await.expect("create");
    // What a restart or a failover to a fresh replica does to the script cache.
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut server.connect()).expect("SCRIPT FLUSH");
    proxy.take();

    sessions.patch_attributes(&created.sid, &json!({"a": 1}), None).await.expect("patch after the flush");
    assert_eq!(proxy.take(), ["HMGET", "EVALSHA", "SCRIPT", "EVALSHA"], "NOSCRIPT, load, run again");
    sessions.patch_attributes(&created.sid, &json!({"b": 2}), None).await.expect("patch");
    assert_eq!(proxy.take(), ["HMGET", "EVALSHA"], "loaded once, then one command again");
    let stored = sessions.get(&created.sid).await.expect("get");
    assert_eq!((stored.version, stored.attributes.get("b")), (3, Some(&json!(2))));
}
