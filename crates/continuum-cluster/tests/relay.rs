//! The relay between nodes of one process over a [`MemoryBus`]: session events and sign-outs
//! reach the local node and the other nodes, document appends reach the other nodes' live
//! documents, a gap resets the local node and makes live documents read their log, and a
//! single node without a bus still tells its local node.

mod common;

use std::sync::Arc;

use common::{Deployment, QUIET, SOON, Seen, doc_reaches, draft};
use continuum_cluster::{MemoryBus, RelayConfig};
use continuum_core::{NewSession, Principal};
use continuum_store::{Bus, SessionEventKind};
use serde_json::json;

fn revoked_seen(seen: &[Seen], sid: continuum_core::SessionId) -> bool {
    seen.iter().any(|seen| matches!(seen, Seen::Event(event) if event.sid == sid && event.kind == SessionEventKind::Revoked))
}

#[tokio::test]
async fn session_events_reach_the_local_node_and_the_other_nodes() {
    let deployment = Deployment::new();
    let bus = MemoryBus::new();
    let b_bus: Arc<dyn Bus> = Arc::new(bus.join());
    let a = deployment.node(Some(Arc::new(bus)), RelayConfig::default());
    let b = deployment.node(Some(b_bus), RelayConfig::default());
    let sid = a.create("alice").await;
    assert!(a.sessions.revoke(&sid).await.unwrap());
    assert!(a.seen.wait_for(|seen| revoked_seen(seen, sid)).await, "A's local node: {:?}", a.seen.seen());
    assert!(b.seen.wait_for(|seen| revoked_seen(seen, sid)).await, "B's local node: {:?}", b.seen.seen());
    let kinds = |seen: Vec<Seen>| -> Vec<SessionEventKind> {
        seen.into_iter()
            .filter_map(|seen| if let Seen::Event(event) = seen { Some(event.kind) } else { None })
            .collect()
    };
    assert_eq!(kinds(a.seen.seen()), [SessionEventKind::Created, SessionEventKind::Revoked]);
    assert_eq!(
        kinds(b.seen.seen()),
        [SessionEventKind::Created, SessionEventKind::Revoked],
        "in order, once each"
    );
}

#[tokio::test]
async fn a_sign_out_everywhere_drops_the_other_nodes_cached_epoch() {
    let deployment = Deployment::new();
    let bus = MemoryBus::new();
    let b_bus: Arc<dyn Bus> = Arc::new(bus.join());
    let a = deployment.node(Some(Arc::new(bus)), RelayConfig::default());
    let b = deployment.node(Some(b_bus), RelayConfig::default());
    let carol = Principal::parse("carol").unwrap();
    let ask = NewSession { principal: Some(carol.clone()), ..NewSession::default() };
    let (_, token) = a.sealed.create(ask).await.unwrap();
    b.sealed.validate(&token).await.expect("valid on B, which caches carol's epoch for a minute");

    a.sealed.sign_out_everywhere(&carol).await.unwrap();
    let signed_out = |seen: &[Seen]| seen.contains(&Seen::SignedOut(carol.clone()));
    assert!(a.seen.wait_for(signed_out).await, "A's local node: {:?}", a.seen.seen());
    assert!(b.seen.wait_for(signed_out).await, "B's local node: {:?}", b.seen.seen());
    assert!(
        b.sealed.validate(&token).await.is_err(),
        "B dropped the cached epoch before telling its local node"
    );
}

#[tokio::test]
async fn document_appends_reach_the_other_nodes_live_documents() {
    let deployment = Deployment::new();
    let bus = MemoryBus::new();
    let b_bus: Arc<dyn Bus> = Arc::new(bus.join());
    let a = deployment.node(Some(Arc::new(bus)), RelayConfig::default());
    let b = deployment.node(Some(b_bus), RelayConfig::default());
    let (on_a, on_b) = (a.registry.open(&draft()).await.unwrap(), b.registry.open(&draft()).await.unwrap());

    on_a.patch_json(&json!({"form": {"title": "written on A"}})).await.unwrap();
    assert!(
        doc_reaches(&on_b, SOON, |doc| doc["form"]["title"] == "written on A").await,
        "{}",
        on_b.to_json()
    );
    on_b.patch_json(&json!({"form": {"city": "Lyon"}})).await.unwrap();
    assert!(doc_reaches(&on_a, SOON, |doc| doc["form"]["city"] == "Lyon").await, "{}", on_a.to_json());
    assert_eq!(on_a.to_json(), on_b.to_json());
    assert_eq!(a.relay.metrics().appends_without_bytes(), 0);
}

#[tokio::test]
async fn an_update_too_large_for_the_bus_is_read_from_the_log() {
    let deployment = Deployment::new();
    let bus = MemoryBus::with_max_notice_bytes(400);
    let b_bus: Arc<dyn Bus> = Arc::new(bus.join());
    let a = deployment.node(Some(Arc::new(bus)), RelayConfig::default());
    let b = deployment.node(Some(b_bus), RelayConfig::default());
    let (on_a, on_b) = (a.registry.open(&draft()).await.unwrap(), b.registry.open(&draft()).await.unwrap());
    let long = "x".repeat(2000);
    on_a.patch_json(&json!({"form": {"notes": long}})).await.unwrap();
    assert!(doc_reaches(&on_b, SOON, |doc| doc["form"]["notes"] == long.as_str()).await);
}

#[tokio::test]
async fn a_gap_resets_the_local_node_and_live_documents_read_their_log() {
    let deployment = Deployment::new();
    let bus = Arc::new(MemoryBus::new());
    let b = deployment.node(Some(Arc::clone(&bus) as _), RelayConfig::default());
    let on_b = b.registry.open(&draft()).await.unwrap();
    // Appended to the shared log by a registry that announces nothing: B is not told.
    let unannounced = deployment.registry();
    let elsewhere = unannounced.open(&draft()).await.unwrap();
    elsewhere.patch_json(&json!({"form": {"step": 7}})).await.unwrap();
    assert!(!doc_reaches(&on_b, QUIET, |doc| doc["form"]["step"] == 7).await, "nobody told B");

    bus.gap();
    let why = "events from other nodes may have been missed";
    assert!(b.seen.wait_for(|seen| seen.contains(&Seen::Missed(why))).await, "{:?}", b.seen.seen());
    assert!(
        doc_reaches(&on_b, SOON, |doc| doc["form"]["step"] == 7).await,
        "B read its log: {}",
        on_b.to_json()
    );
}

#[tokio::test]
async fn a_single_node_without_a_bus_still_tells_its_local_node() {
    let deployment = Deployment::new();
    let node = deployment.node(None, RelayConfig::default());
    let sid = node.create("alice").await;
    node.sessions.revoke(&sid).await.unwrap();
    let dave = Principal::parse("dave").unwrap();
    node.sealed.sign_out_everywhere(&dave).await.unwrap();
    assert!(node.seen.wait_for(|seen| revoked_seen(seen, sid)).await, "{:?}", node.seen.seen());
    assert!(node.seen.wait_for(|seen| seen.contains(&Seen::SignedOut(dave.clone()))).await);
    assert!(!node.seen.seen().iter().any(|seen| matches!(seen, Seen::Missed(_))), "nothing was missed");
}
