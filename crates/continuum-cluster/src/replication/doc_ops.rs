//! The document operations of a [`ReplicaNode`]: a document's owners are ranked by its scope and
//! name. Appends and named versions go through the primary, which copies them to its backups
//! before applying them; loads are answered from any owner's copy. Updates are Yjs updates, so
//! every owner's log merges to the same document even though each numbers its own log.
//!
//! Compaction runs on the primary only: backups keep their whole log (a known cost, written in
//! docs/design.md), so a promoted backup still holds every update.

use bytes::{BufMut, Bytes, BytesMut};
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, Scope, Timestamp};
use continuum_store::{StoreError, StoredDoc, VersionMeta};

use super::node::{ReplicaNode, unexpected};
use super::step::Step;
use super::view::{Route, View, route};
use super::wire::{Reply, Request, WireDoc, WireVersion};

/// A document key as it travels.
pub(crate) fn wire_doc(key: &DocKey) -> WireDoc {
    WireDoc { scope: key.scope.to_string(), name: key.name.to_string() }
}

/// A document's snapshot and updates as one body, with the lengths that split it again.
pub(crate) fn doc_body(doc: &StoredDoc) -> (Option<u32>, Vec<u32>, Bytes) {
    let mut body = BytesMut::new();
    let snapshot = doc.snapshot.as_ref().map(|snapshot| {
        body.put_slice(snapshot);
        snapshot.len() as u32
    });
    let updates = doc
        .updates
        .iter()
        .map(|update| {
            body.put_slice(update);
            update.len() as u32
        })
        .collect();
    (snapshot, updates, body.freeze())
}

/// The document [`doc_body`] put in `body`, with its `last_seq`.
pub(crate) fn doc_pieces(
    snapshot: Option<u32>,
    updates: Vec<u32>,
    last_seq: u64,
    body: &Bytes,
) -> Result<StoredDoc, Step> {
    let mut at = 0usize;
    let mut take = |len: u32| {
        let end = at + len as usize;
        let slice = body.get(at..end).map(<[u8]>::to_vec);
        at = end;
        slice.ok_or_else(|| {
            Step::Fail(StoreError::backend(super::error::ReplicationError::Peer {
                message: "a document's body is shorter than its header says".into(),
            }))
        })
    };
    let snapshot = snapshot.map(&mut take).transpose()?;
    let updates = updates.into_iter().map(take).collect::<Result<_, _>>()?;
    Ok(StoredDoc { snapshot, updates, last_seq })
}

/// A document's stored state as a reply and its body.
pub(crate) fn doc_reply(doc: &StoredDoc) -> (Reply, Bytes) {
    let (snapshot, updates, body) = doc_body(doc);
    (Reply::Doc { snapshot, updates, last_seq: doc.last_seq }, body)
}

fn doc_of(reply: Reply, body: &Bytes) -> Result<StoredDoc, Step> {
    let Reply::Doc { snapshot, updates, last_seq } = reply else { return Err(unexpected(&reply)) };
    doc_pieces(snapshot, updates, last_seq, body)
}

fn meta(version: WireVersion) -> VersionMeta {
    VersionMeta { id: version.id, name: version.name, created_at: version.created_at }
}

/// A version's metadata as it travels.
pub(crate) fn wire_version(meta: VersionMeta) -> WireVersion {
    WireVersion { id: meta.id, name: meta.name, created_at: meta.created_at }
}

impl ReplicaNode {
    fn doc_route<'a>(&self, view: &'a View, key: &DocKey) -> Route<'a> {
        route(view, &self.me, &PlacementKey::doc(key), self.replicas)
    }

    /// A document's state from a copy held here or from its primary.
    pub async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } => {
                    let _write = self.stripe(&PlacementKey::doc(key)).lock().await;
                    self.ensure_doc(&view, key, &self.other_owners(&view, key)).await?;
                    self.catch_up_doc(&view, key).await?;
                    Ok(self.docs.load(key).await?)
                }
                // The primary's copy, which alone is compacted; a backup's own copy (every
                // update, merged to the same state) when the primary does not answer.
                Route::Backup { primary } => {
                    match self.forward(&view, primary, Request::Load { doc: wire_doc(key) }, &[]).await {
                        Ok((reply, body)) => doc_of(reply, &body),
                        Err(Step::Retry(_)) => Ok(self.docs.load(key).await?),
                        Err(failed) => Err(failed),
                    }
                }
                Route::Forward { primary } => {
                    let (reply, body) =
                        self.forward(&view, primary, Request::Load { doc: wire_doc(key) }, &[]).await?;
                    doc_of(reply, &body)
                }
            }
        })
        .await
    }

    /// Appends an update through the primary; returns the primary's sequence number.
    pub async fn append(&self, key: &DocKey, update: &[u8]) -> Result<u64, StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => self.primary_append(&view, &backups, key, update).await,
                Route::Backup { primary } | Route::Forward { primary } => {
                    match self.forward(&view, primary, Request::Append { doc: wire_doc(key) }, update).await?
                    {
                        (Reply::Number { value }, _) => Ok(value),
                        (reply, _) => Err(unexpected(&reply)),
                    }
                }
            }
        })
        .await
    }

    pub(crate) async fn primary_append(
        &self,
        view: &View,
        backups: &[&str],
        key: &DocKey,
        update: &[u8],
    ) -> Result<u64, Step> {
        let _write = self.stripe(&PlacementKey::doc(key)).lock().await;
        self.ensure_doc(view, key, &self.other_owners(view, key)).await?;
        self.catch_up_doc(view, key).await?;
        let copy = Request::CopyAppend { view: view.fingerprint(), doc: wire_doc(key) };
        self.copy_to(view, backups, copy, update).await?;
        Ok(self.docs.append(key, update.to_vec()).await?)
    }

    /// The key's owners under `view` other than this node.
    pub(crate) fn other_owners<'a>(&self, view: &'a View, key: &DocKey) -> Vec<&'a str> {
        view.owners(&PlacementKey::doc(key), self.replicas)
            .into_iter()
            .filter(|owner| *owner != self.me)
            .collect()
    }

    /// When this node holds nothing of the document (it became an owner by a membership
    /// change), copies what `sources` hold into its own log first: each one's snapshot and
    /// updates, appended as updates (Yjs merges them, repeats included). Call with the key's
    /// stripe held; `sources` answer loads without taking theirs.
    pub(crate) async fn ensure_doc(&self, view: &View, key: &DocKey, sources: &[&str]) -> Result<(), Step> {
        if !self.docs.load(key).await?.is_empty() {
            return Ok(());
        }
        for source in sources {
            let Ok((reply, body)) =
                self.forward(view, source, Request::Load { doc: wire_doc(key) }, &[]).await
            else {
                continue;
            };
            let theirs = doc_of(reply, &body)?;
            for update in theirs.snapshot.into_iter().chain(theirs.updates) {
                self.docs.append(key, update).await?;
            }
        }
        Ok(())
    }

    /// While this node's copies are not trusted (it just started, stood still, or was without a
    /// quorum: see [`ReplicaNode::copies_fresh`]), merges into its copy the pieces every other
    /// member holds and it does not: a primary back from a restart holds the log as it was
    /// when it died, and the updates appended meanwhile are on the nodes that owned the
    /// document then, which the transfer may not have reached it from yet (the fault suite saw
    /// a returning primary serve, and keep, a document without the edits of its six seconds
    /// away). Call with the key's stripe held.
    pub(crate) async fn catch_up_doc(&self, view: &View, key: &DocKey) -> Result<(), Step> {
        if self.copies_fresh(view, &PlacementKey::doc(key)) {
            return Ok(());
        }
        let others: Vec<&str> =
            view.members().iter().map(|member| member.id.as_str()).filter(|id| *id != self.me).collect();
        for other in others {
            let Ok((reply, body)) =
                self.forward(view, other, Request::LoadHeld { doc: wire_doc(key) }, &[]).await
            else {
                continue;
            };
            let theirs = doc_of(reply, &body)?;
            let held = self.docs.load(key).await?;
            match super::doc_merge::missing(&held, &theirs) {
                Ok(Some(update)) => {
                    self.docs.append(key, update).await?;
                }
                Ok(None) => {}
                // Not Yjs on one side (no store holds anything else; the stores' conformance
                // suite writes raw bytes): nothing can be compared, so nothing is merged.
                Err(error) => {
                    tracing::warn!(%error, doc = %key, "a copy of the document is not Yjs; not merged")
                }
            }
        }
        Ok(())
    }

    /// Appends the pieces of `theirs` (its snapshot, its updates) that this node's copy does
    /// not hold byte for byte. A Yjs update applied twice changes nothing, so a piece held in
    /// another form costs log space only.
    pub(crate) async fn merge_doc(&self, key: &DocKey, theirs: StoredDoc) -> Result<(), Step> {
        let held = self.docs.load(key).await?;
        let is_held = |piece: &Vec<u8>| held.snapshot.as_ref() == Some(piece) || held.updates.contains(piece);
        for piece in theirs.snapshot.into_iter().chain(theirs.updates) {
            if !is_held(&piece) {
                self.docs.append(key, piece).await?;
            }
        }
        Ok(())
    }

    /// A backup's side of an append or a version: checks that `from` is the primary here.
    pub(crate) fn check_doc_copy(&self, from: &str, view_fingerprint: u64, key: &DocKey) -> Result<(), Step> {
        let view = self.copy_view(view_fingerprint)?;
        match self.doc_route(&view, key) {
            Route::Backup { primary } if primary == from => Ok(()),
            _ => Err(Step::Retry("the sender is not the primary here")),
        }
    }

    /// Compacts the primary's copy.
    pub async fn compact(&self, key: &DocKey, snapshot: &[u8], through_seq: u64) -> Result<(), StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } => {
                    let _write = self.stripe(&PlacementKey::doc(key)).lock().await;
                    Ok(self.docs.compact(key, snapshot.to_vec(), through_seq).await?)
                }
                Route::Backup { primary } | Route::Forward { primary } => {
                    let request = Request::Compact { doc: wire_doc(key), through_seq };
                    self.forward(&view, primary, request, snapshot).await.map(drop)
                }
            }
        })
        .await
    }

    /// Saves a named version through the primary, copied to its backups.
    pub async fn save_version(
        &self,
        key: &DocKey,
        name: &str,
        created_at: Timestamp,
        state: &[u8],
    ) -> Result<VersionMeta, StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => {
                    let _write = self.stripe(&PlacementKey::doc(key)).lock().await;
                    let copy = Request::CopyVersion {
                        view: view.fingerprint(),
                        doc: wire_doc(key),
                        name: name.to_owned(),
                        created_at,
                    };
                    self.copy_to(&view, &backups, copy, state).await?;
                    Ok(self.docs.save_version(key, name.to_owned(), created_at, state.to_vec()).await?)
                }
                Route::Backup { primary } | Route::Forward { primary } => {
                    let request =
                        Request::SaveVersion { doc: wire_doc(key), name: name.to_owned(), created_at };
                    match self.forward(&view, primary, request, state).await? {
                        (Reply::Version { version: Some(version) }, _) => Ok(meta(version)),
                        (reply, _) => Err(unexpected(&reply)),
                    }
                }
            }
        })
        .await
    }

    /// A document's versions, from a copy held here or from its primary.
    pub async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } | Route::Backup { .. } => Ok(self.docs.versions(key).await?),
                Route::Forward { primary } => {
                    match self.forward(&view, primary, Request::Versions { doc: wire_doc(key) }, &[]).await? {
                        (Reply::Versions { versions }, _) => Ok(versions.into_iter().map(meta).collect()),
                        (reply, _) => Err(unexpected(&reply)),
                    }
                }
            }
        })
        .await
    }

    /// One version, from a copy held here or from its primary.
    pub async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        self.attempt(|view| async move {
            match self.doc_route(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } | Route::Backup { .. } => Ok(self.docs.version(key, id).await?),
                Route::Forward { primary } => {
                    match self
                        .forward(&view, primary, Request::Version { doc: wire_doc(key), id }, &[])
                        .await?
                    {
                        (Reply::Version { version }, body) => {
                            Ok(version.map(|version| (meta(version), body.to_vec())))
                        }
                        (reply, _) => Err(unexpected(&reply)),
                    }
                }
            }
        })
        .await
    }

    /// The names of `scope`'s documents, asked of every live node (each names those it is the
    /// primary of).
    pub async fn doc_names(&self, scope: &Scope) -> Result<Vec<continuum_core::DocName>, StoreError> {
        let view = self.quorate_view()?;
        let mut names = self.primary_doc_names(scope).await?;
        let others = view.members().iter().filter(|member| member.id != self.me);
        let request = Request::DocNamesPrimary { scope: scope.to_string() };
        let answers = futures_util::future::join_all(
            others.map(|member| self.peers.call(member, request.clone(), &[])),
        )
        .await;
        for answer in answers {
            match answer {
                Ok((Ok(Reply::Names { names: theirs }), _)) => {
                    names.extend(theirs.iter().filter_map(|name| continuum_core::DocName::parse(name).ok()));
                }
                _ => {
                    return Err(StoreError::Unavailable(Box::new(
                        super::error::ReplicationError::Unsettled {
                            why: "a node did not name its documents",
                        },
                    )));
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The names of `scope`'s documents held here whose primary this node is.
    pub(crate) async fn primary_doc_names(
        &self,
        scope: &Scope,
    ) -> Result<Vec<continuum_core::DocName>, StoreError> {
        let view = self.view();
        let mut names = self.docs.doc_names(scope).await?;
        names.retain(|name| {
            let key = DocKey { scope: scope.clone(), name: name.clone() };
            matches!(self.doc_route(&view, &key), Route::Primary { .. })
        });
        Ok(names)
    }
}
