//! The receiving side of a transfer (`super::transfer`): what a node does with the copies an
//! old owner hands it after a membership change — keep the newer session, raise the epoch,
//! merge the document, save the named version — so repeats and late arrivals change nothing.

use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, Principal, SessionRecord};
use continuum_store::StoredDoc;

use super::node::ReplicaNode;
use super::step::Step;

impl ReplicaNode {
    /// The receiving side of [`Request::Handoff`](super::wire::Request::Handoff): keeps each copy that is newer than the one
    /// held here.
    pub(crate) async fn take_handoff(&self, records: Vec<SessionRecord>) -> Result<(), Step> {
        for record in records {
            let key = PlacementKey::session(&record.sid);
            self.keep_newer(&key, record).await?;
        }
        Ok(())
    }

    /// The receiving side of [`Request::HandoffEpochs`](super::wire::Request::HandoffEpochs): raises each epoch to at least the one
    /// sent.
    pub(crate) async fn take_epoch_handoff(&self, epochs: Vec<(Principal, u64)>) -> Result<(), Step> {
        for (principal, epoch) in epochs {
            let _write = self.copy_stripe(&PlacementKey::principal(&principal)).lock().await;
            self.sessions.raise_principal_epoch(&principal, epoch).await?;
        }
        Ok(())
    }

    /// The receiving side of [`Request::HandoffVersion`](super::wire::Request::HandoffVersion): saves the version unless one of the
    /// same name and time is held (ids are each store's own, so they are not compared).
    pub(crate) async fn take_version_handoff(
        &self,
        key: &DocKey,
        name: String,
        created_at: continuum_core::Timestamp,
        state: Vec<u8>,
    ) -> Result<(), Step> {
        let _write = self.copy_stripe(&PlacementKey::doc(key)).lock().await;
        let held = self.docs.versions(key).await?;
        if !held.iter().any(|meta| meta.name == name && meta.created_at == created_at) {
            self.docs.save_version(key, name, created_at, state).await?;
        }
        Ok(())
    }

    /// The receiving side of [`Request::HandoffDoc`](super::wire::Request::HandoffDoc): merges the pieces this node's copy lacks
    /// ([`ReplicaNode::merge_doc`]).
    pub(crate) async fn take_doc_handoff(&self, key: &DocKey, doc: StoredDoc) -> Result<(), Step> {
        let _write = self.copy_stripe(&PlacementKey::doc(key)).lock().await;
        self.merge_doc(key, doc).await
    }
}
