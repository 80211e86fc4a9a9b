//! What a [`ReplicaNode`] answers its peers: forwarded requests it serves as the key's primary
//! (or, for reads, as an owner), copies it takes as a backup, and the scatter requests every
//! node answers about what it holds.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, Scope};

use super::doc_ops::{doc_pieces, doc_reply, wire_version};
use super::error::ReplicationError;
use super::listener::Handler;
use super::node::ReplicaNode;
use super::peers::Answer;
use super::step::Step;
use super::step::{step_refusal, store_refusal};
use super::view::{Route, route};
use super::wire::{Refusal, Reply, Request, WireDoc};

fn answer(result: Result<Reply, Step>) -> Answer {
    (result.map_err(step_refusal), Bytes::new())
}

fn bad(message: impl Into<String>) -> Answer {
    (Err(Refusal::BadRequest { message: message.into() }), Bytes::new())
}

fn doc_key(doc: &WireDoc) -> Result<DocKey, Box<Answer>> {
    DocKey::parse(&doc.scope, &doc.name)
        .map_err(|error| Box::new(bad(ReplicationError::BadDoc(error).to_string())))
}

/// The handler peers' requests reach: a node behind an `Arc`.
pub struct NodeHandler(pub Arc<ReplicaNode>);

#[async_trait]
impl Handler for NodeHandler {
    async fn handle(&self, from: &str, request: Request, body: Bytes) -> Answer {
        self.0.serve(from, request, body).await
    }
}

impl ReplicaNode {
    /// This node's role for `key` when a peer forwards a request to it: the backups if it is
    /// the primary, or the refusal to answer.
    fn serving<'a>(&self, view: &'a super::view::View, key: &PlacementKey) -> Result<Route<'a>, Refusal> {
        match route(view, &self.me, key, self.replicas) {
            Route::NoQuorum => Err(Refusal::NoQuorum),
            other => Ok(other),
        }
    }

    async fn serve(&self, from: &str, request: Request, body: Bytes) -> Answer {
        let view = self.view();
        self.note_written(&view);
        macro_rules! as_primary {
            ($key:expr, |$backups:ident| $then:expr) => {
                match self.serving(&view, &$key) {
                    Ok(Route::Primary { backups: $backups }) => answer($then.await),
                    Ok(_) => (Err(Refusal::NotOwner), Bytes::new()),
                    Err(refusal) => (Err(refusal), Bytes::new()),
                }
            };
        }
        macro_rules! as_owner {
            ($key:expr, $then:expr) => {
                match self.serving(&view, &$key) {
                    Ok(route) if route.reads_locally() => $then,
                    Ok(_) => (Err(Refusal::NotOwner), Bytes::new()),
                    Err(refusal) => (Err(refusal), Bytes::new()),
                }
            };
        }
        match request {
            Request::Insert { record } => {
                let record = Arc::new(record);
                as_primary!(PlacementKey::session(&record.sid), |backups| async {
                    self.primary_insert(&view, &backups, &record).await.map(|()| Reply::Done)
                })
            }
            Request::Replace { expected, record, retry } => {
                let record = Arc::new(record);
                as_primary!(PlacementKey::session(&record.sid), |backups| async {
                    self.primary_replace(&view, &backups, expected, &record, retry)
                        .await
                        .map(|()| Reply::Done)
                })
            }
            Request::Touch { sid, at } => as_primary!(PlacementKey::session(&sid), |backups| async {
                self.primary_touch(&view, &backups, &sid, at).await.map(|()| Reply::Done)
            }),
            Request::Get { sid } => as_owner!(PlacementKey::session(&sid), {
                answer(
                    self.read_held(&view, &sid)
                        .await
                        .map(|record| Reply::Record { record: record.map(|r| (*r).clone()) }),
                )
            }),
            Request::GetHeld { sid } => answer(
                self.read_held(&view, &sid)
                    .await
                    .map(|record| Reply::Record { record: record.map(|r| (*r).clone()) }),
            ),
            Request::Committed { sid, version } => {
                self.pending().confirm(&sid, version);
                (Ok(Reply::Done), Bytes::new())
            }
            Request::Epoch { principal } => as_owner!(PlacementKey::principal(&principal), {
                match self.sessions.principal_epoch(&principal).await {
                    Ok(value) => (Ok(Reply::Number { value }), Bytes::new()),
                    Err(error) => (Err(store_refusal(error)), Bytes::new()),
                }
            }),
            Request::BumpEpoch { principal } => {
                as_primary!(PlacementKey::principal(&principal), |backups| async {
                    self.primary_bump(&view, &backups, &principal).await.map(|value| Reply::Number { value })
                })
            }
            Request::Put { view: fingerprint, record } => {
                answer(self.accept_copy(from, fingerprint, record).await.map(|()| Reply::Done))
            }
            Request::RaiseEpoch { view: fingerprint, principal, epoch } => answer(
                self.accept_epoch(from, fingerprint, &principal, epoch)
                    .await
                    .map(|value| Reply::Number { value }),
            ),
            Request::ListLocal { principal } => match self.owned_of(&principal).await {
                Ok(records) => (
                    Ok(Reply::Records { records: records.iter().map(|r| (**r).clone()).collect() }),
                    Bytes::new(),
                ),
                Err(error) => (Err(store_refusal(error)), Bytes::new()),
            },
            Request::CountPrimary => match self.count_primary().await {
                Ok(value) => (Ok(Reply::Number { value }), Bytes::new()),
                Err(error) => (Err(store_refusal(error)), Bytes::new()),
            },
            Request::DuePrimary { now, limit } => match self.due_primary(now, limit).await {
                Ok(records) => (
                    Ok(Reply::Records { records: records.iter().map(|r| (**r).clone()).collect() }),
                    Bytes::new(),
                ),
                Err(error) => (Err(store_refusal(error)), Bytes::new()),
            },
            Request::PurgeIds { now, sids } => match self.sessions.purge_sessions(&sids, now).await {
                Ok(sessions) => (
                    Ok(Reply::Purged { sessions: sessions.into_iter().map(Into::into).collect() }),
                    Bytes::new(),
                ),
                Err(error) => (Err(store_refusal(error)), Bytes::new()),
            },
            Request::Load { doc } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                as_owner!(PlacementKey::doc(&key), {
                    match self.docs.load(&key).await {
                        Ok(doc) => {
                            let (reply, body) = doc_reply(&doc);
                            (Ok(reply), body)
                        }
                        Err(error) => (Err(store_refusal(error)), Bytes::new()),
                    }
                })
            }
            Request::LoadHeld { doc } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                match self.docs.load(&key).await {
                    Ok(doc) => {
                        let (reply, body) = doc_reply(&doc);
                        (Ok(reply), body)
                    }
                    Err(error) => (Err(store_refusal(error)), Bytes::new()),
                }
            }
            Request::Append { doc } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                as_primary!(PlacementKey::doc(&key), |backups| async {
                    self.primary_append(&view, &backups, &key, &body)
                        .await
                        .map(|value| Reply::Number { value })
                })
            }
            Request::CopyAppend { view: fingerprint, doc } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                answer(
                    async {
                        self.check_doc_copy(from, fingerprint, &key)?;
                        #[cfg(feature = "fault-modes")]
                        if self.drops_copy("document append") {
                            return Ok(Reply::Number { value: 0 });
                        }
                        let _write = self.copy_stripe(&PlacementKey::doc(&key)).lock().await;
                        // A new backup first takes what the primary holds.
                        self.ensure_doc(&view, &key, &[from]).await?;
                        let seq = self.docs.append(&key, body.to_vec()).await?;
                        Ok(Reply::Number { value: seq })
                    }
                    .await,
                )
            }
            Request::CopyVersion { view: fingerprint, doc, name, created_at } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                answer(
                    async {
                        self.check_doc_copy(from, fingerprint, &key)?;
                        #[cfg(feature = "fault-modes")]
                        if self.drops_copy("document version") {
                            return Ok(Reply::Version { version: None });
                        }
                        let _write = self.copy_stripe(&PlacementKey::doc(&key)).lock().await;
                        let meta = self.docs.save_version(&key, name, created_at, body.to_vec()).await?;
                        Ok(Reply::Version { version: Some(wire_version(meta)) })
                    }
                    .await,
                )
            }
            Request::Compact { doc, through_seq } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                as_primary!(PlacementKey::doc(&key), |_backups| async {
                    let _write = self.stripe(&PlacementKey::doc(&key)).lock().await;
                    self.docs
                        .compact(&key, body.to_vec(), through_seq)
                        .await
                        .map(|()| Reply::Done)
                        .map_err(Step::from)
                })
            }
            Request::SaveVersion { doc, name, created_at } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                match self.serving(&view, &PlacementKey::doc(&key)) {
                    Ok(Route::Primary { .. }) => {
                        match self.save_version(&key, &name, created_at, &body).await {
                            Ok(meta) => {
                                (Ok(Reply::Version { version: Some(wire_version(meta)) }), Bytes::new())
                            }
                            Err(error) => (Err(store_refusal(error)), Bytes::new()),
                        }
                    }
                    Ok(_) => (Err(Refusal::NotOwner), Bytes::new()),
                    Err(refusal) => (Err(refusal), Bytes::new()),
                }
            }
            Request::Versions { doc } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                as_owner!(PlacementKey::doc(&key), {
                    match self.docs.versions(&key).await {
                        Ok(versions) => (
                            Ok(Reply::Versions {
                                versions: versions.into_iter().map(wire_version).collect(),
                            }),
                            Bytes::new(),
                        ),
                        Err(error) => (Err(store_refusal(error)), Bytes::new()),
                    }
                })
            }
            Request::Version { doc, id } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                as_owner!(PlacementKey::doc(&key), {
                    match self.docs.version(&key, id).await {
                        Ok(Some((meta, state))) => {
                            (Ok(Reply::Version { version: Some(wire_version(meta)) }), Bytes::from(state))
                        }
                        Ok(None) => (Ok(Reply::Version { version: None }), Bytes::new()),
                        Err(error) => (Err(store_refusal(error)), Bytes::new()),
                    }
                })
            }
            Request::DocNamesPrimary { scope } => {
                let Ok(scope) = Scope::parse(&scope) else { return bad("a peer named an invalid scope") };
                match self.primary_doc_names(&scope).await {
                    Ok(names) => (
                        Ok(Reply::Names { names: names.iter().map(ToString::to_string).collect() }),
                        Bytes::new(),
                    ),
                    Err(error) => (Err(store_refusal(error)), Bytes::new()),
                }
            }
            Request::Handoff { records } => answer(self.take_handoff(records).await.map(|()| Reply::Done)),
            Request::HandoffEpochs { epochs } => {
                answer(self.take_epoch_handoff(epochs).await.map(|()| Reply::Done))
            }
            Request::HandoffDoc { doc, snapshot, updates } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                answer(
                    async {
                        let doc = doc_pieces(snapshot, updates, 0, &body)?;
                        self.take_doc_handoff(&key, doc).await.map(|()| Reply::Done)
                    }
                    .await,
                )
            }
            Request::HandoffVersion { doc, name, created_at } => {
                let key = match doc_key(&doc) {
                    Ok(key) => key,
                    Err(answer) => return *answer,
                };
                let taken = self.take_version_handoff(&key, name, created_at, body.to_vec()).await;
                answer(taken.map(|()| Reply::Done))
            }
            Request::Notice { payload } => {
                self.inbox.deliver(&payload);
                (Ok(Reply::Done), Bytes::new())
            }
        }
    }
}
