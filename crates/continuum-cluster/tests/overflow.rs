//! A full append queue: the bytes of the appends that found it full are dropped and counted,
//! their document is announced once without bytes, and the other node's live document still
//! converges by reading the log. The bus is held shut to fill the queue (fault injection).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{Deployment, QUIET, SOON, doc_reaches, draft};
use continuum_cluster::{MemoryBus, RelayConfig};
use continuum_store::{Bus, DocStore as _, Heard, Notice, StoreError};
use serde_json::json;
use tokio::sync::{broadcast, watch};

/// A bus whose document announcements wait until it is opened.
struct HeldBus {
    inner: MemoryBus,
    open: watch::Receiver<bool>,
    /// How many announcements started waiting.
    held: AtomicUsize,
}

#[async_trait]
impl Bus for HeldBus {
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        if matches!(notice, Notice::DocAppended { .. }) {
            self.held.fetch_add(1, Ordering::SeqCst);
            let _ = self.open.clone().wait_for(|open| *open).await;
        }
        self.inner.publish(notice).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.inner.subscribe()
    }
}

async fn until(done: impl Fn() -> bool) {
    tokio::time::timeout(SOON, async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_append_queue_drops_bytes_and_the_other_node_still_converges() {
    let deployment = Deployment::new();
    let medium = MemoryBus::new();
    let (b_bus, spy) = (medium.join(), medium.join());
    let mut heard_by_spy = spy.subscribe();
    let (opener, open) = watch::channel(false);
    let a_bus = Arc::new(HeldBus { inner: medium, open, held: AtomicUsize::new(0) });
    let a = deployment.node(Some(Arc::clone(&a_bus) as _), RelayConfig { append_capacity: 1 });
    let b = deployment.node(Some(Arc::new(b_bus)), RelayConfig::default());
    let (on_a, on_b) = (a.registry.open(&draft()).await.unwrap(), b.registry.open(&draft()).await.unwrap());

    // The first append is taken by the publisher, which waits at the shut bus; the second fills
    // the queue; the next three find it full.
    on_a.patch_json(&json!({"form": {"step": 1}})).await.unwrap();
    until(|| a_bus.held.load(Ordering::SeqCst) == 1).await;
    for step in 2..=5 {
        on_a.patch_json(&json!({"form": {"step": step}})).await.unwrap();
    }
    assert_eq!(a.relay.metrics().appends_without_bytes(), 3, "three appends found the queue full");
    assert!(!doc_reaches(&on_b, QUIET, |doc| doc["form"]["step"] == 1).await, "the bus is shut");

    opener.send(true).unwrap();
    assert!(
        doc_reaches(&on_b, SOON, |doc| doc["form"]["step"] == 5).await,
        "B converged: {}",
        on_b.to_json()
    );
    assert_eq!(on_b.to_json(), on_a.to_json());

    // What went over the bus: the two queued appends with their bytes, and the document once
    // without bytes, at the last sequence number appended.
    let last_seq = deployment.docs.load(&draft()).await.unwrap().last_seq;
    let mut announced = Vec::new();
    while announced.len() < 3 {
        match tokio::time::timeout(SOON, heard_by_spy.recv()).await.expect("heard").expect("open") {
            Heard::Notice(notice) => match notice.as_ref() {
                Notice::DocAppended { seq, update, .. } => announced.push((*seq, update.is_some())),
                other => panic!("unexpected {other:?}"),
            },
            Heard::Gap => panic!("no gap on a memory bus"),
        }
    }
    announced.sort();
    assert_eq!(announced, [(last_seq - 4, true), (last_seq - 3, true), (last_seq, false)]);

    // With room in the queue again, appends carry their bytes.
    on_a.patch_json(&json!({"form": {"step": 6}})).await.unwrap();
    let next = tokio::time::timeout(SOON, heard_by_spy.recv()).await.expect("heard").expect("open");
    assert!(
        matches!(&next, Heard::Notice(notice) if matches!(notice.as_ref(), Notice::DocAppended { update: Some(_), .. })),
        "{next:?}"
    );
    assert!(doc_reaches(&on_b, SOON, |doc| doc["form"]["step"] == 6).await);
    assert_eq!(a.relay.metrics().appends_without_bytes(), 3);
}
