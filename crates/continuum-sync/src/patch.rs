//! Writing JSON into a live document's root maps: RFC 7396 merge patches and version restores,
//! each inside the caller's one transaction.

use serde_json::{Map as JsonMap, Value};
use yrs::types::AsPrelim;
use yrs::{Any, In, Map, MapRef, Out, ReadTxn, TransactionMut, WriteTxn};

use crate::SyncError;
use crate::json::{RootKind, any_to_json, json_to_any, merge_patch, out_to_json, root_kind, root_patches};

/// Applies a document patch (see [`root_patches`]) in `txn`: each member is a merge patch for the
/// root map it names, `null` clears that map. Checks every root before changing anything.
pub fn patch_roots(txn: &mut TransactionMut<'_>, patch: &Value) -> Result<(), SyncError> {
    let roots = root_patches(patch)?;
    if let Some(root) = roots.keys().find(|name| root_kind(txn, name) == RootKind::Other) {
        return Err(SyncError::NotAMap { root: root.clone() });
    }
    for (name, root_patch) in roots {
        let map = txn.get_or_insert_map(name.as_str());
        match root_patch {
            Value::Object(members) => patch_map(txn, &map, members),
            _ => map.clear(txn),
        }
    }
    Ok(())
}

/// Merges `patch` into `map`: `null` deletes a key, an object merges into a nested shared map
/// or plain object found there, anything else (or an object where there was none) is set as a
/// plain value. Values already equal to what they would be set to are left alone, so a patch
/// that changes nothing makes no update.
fn patch_map(txn: &mut TransactionMut<'_>, map: &MapRef, patch: &JsonMap<String, Value>) {
    for (key, value) in patch {
        let current = map.get(txn, key);
        if value.is_null() {
            if current.is_some() {
                map.remove(txn, key);
            }
            continue;
        }
        let merged = match (value, current) {
            (Value::Object(members), Some(Out::YMap(nested))) => {
                patch_map(txn, &nested, members);
                continue;
            }
            (Value::Object(_), Some(Out::Any(existing @ Any::Map(_)))) => {
                let mut merged = any_to_json(&existing);
                merge_patch(&mut merged, value);
                (merged, Some(existing))
            }
            (_, current) => {
                let mut fresh = Value::Null;
                merge_patch(&mut fresh, value);
                let plain = match current {
                    Some(Out::Any(any)) => Some(any),
                    _ => None,
                };
                (fresh, plain)
            }
        };
        let (new_value, plain_current) = merged;
        if plain_current.is_some_and(|current| any_to_json(&current) == new_value) {
            continue;
        }
        map.insert(txn, key.as_str(), In::Any(json_to_any(&new_value)));
    }
}

/// Makes every root map of the live document hold what it holds in `version`: keys set or
/// replaced (keeping shared types such as nested maps and text), keys absent in the version
/// deleted, maps absent in the version cleared. Roots that are not maps are left alone.
pub fn restore_roots<V: ReadTxn>(txn: &mut TransactionMut<'_>, version: &V) {
    let mut names: Vec<String> = txn.root_refs().map(|(name, _)| name.to_owned()).collect();
    names.extend(version.root_refs().map(|(name, _)| name.to_owned()));
    names.sort();
    names.dedup();
    for name in names {
        if root_kind(txn, &name) == RootKind::Other || root_kind(version, &name) == RootKind::Other {
            continue;
        }
        let target: Vec<(String, Out)> = match version.get_map(name.as_str()) {
            Some(map) => map.iter(version).map(|(key, out)| (key.to_owned(), out)).collect(),
            None => Vec::new(),
        };
        let live = txn.get_or_insert_map(name.as_str());
        let stale: Vec<String> = live
            .keys(txn)
            .filter(|key| !target.iter().any(|(target_key, _)| target_key == key))
            .map(str::to_owned)
            .collect();
        for key in stale {
            live.remove(txn, &key);
        }
        for (key, out) in target {
            let wanted = out_to_json(version, &out);
            if live.get(txn, &key).is_some_and(|current| out_to_json(txn, &current) == wanted) {
                continue;
            }
            live.insert(txn, key, out.as_prelim(version));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use yrs::{Array, ArrayPrelim, Doc, MapPrelim, Transact};

    use super::*;
    use crate::json::doc_to_json;

    fn doc_with(form: Value) -> Doc {
        let doc = Doc::new();
        patch_roots(&mut doc.transact_mut(), &json!({ "form": form })).unwrap();
        doc
    }

    #[test]
    fn merge_patches_set_merge_and_delete() {
        let doc = doc_with(json!({"name": "Ada", "step": 1, "address": {"city": "Paris", "zip": "75001"}}));
        patch_roots(
            &mut doc.transact_mut(),
            &json!({"form": {"step": 2, "name": null, "address": {"zip": null, "street": "Rue"}}, "meta": {"v": 1}}),
        )
        .unwrap();
        assert_eq!(
            doc_to_json(&doc.transact()),
            json!({"form": {"step": 2, "address": {"city": "Paris", "street": "Rue"}}, "meta": {"v": 1}})
        );
    }

    #[test]
    fn nested_shared_maps_are_merged_in_place() {
        let doc = Doc::new();
        let nested = {
            let mut txn = doc.transact_mut();
            let form = txn.get_or_insert_map("form");
            let nested = form.insert(&mut txn, "address", MapPrelim::default());
            nested.insert(&mut txn, "city", "Paris");
            nested
        };
        patch_roots(&mut doc.transact_mut(), &json!({"form": {"address": {"zip": "75001"}}})).unwrap();
        let txn = doc.transact();
        assert_eq!(nested.get(&txn, "zip"), Some(Out::Any(Any::from("75001"))), "the same Y.Map, not a copy");
        assert_eq!(doc_to_json(&txn), json!({"form": {"address": {"city": "Paris", "zip": "75001"}}}));
    }

    #[test]
    fn null_clears_a_root_and_no_op_patches_change_nothing() {
        let doc = doc_with(json!({"a": 1, "b": {"c": 2}}));
        {
            let mut txn = doc.transact_mut();
            patch_roots(&mut txn, &json!({"form": {"a": 1, "b": {"c": 2}}})).unwrap();
            assert!(!txn.has_changes(), "setting equal values is no change");
        }
        patch_roots(&mut doc.transact_mut(), &json!({"form": null})).unwrap();
        assert_eq!(doc_to_json(&doc.transact()), json!({"form": {}}));
    }

    #[test]
    fn roots_that_are_not_maps_are_refused_before_any_change() {
        let doc = Doc::new();
        doc.get_or_insert_array("todo").push_back(&mut doc.transact_mut(), 1);
        let mut txn = doc.transact_mut();
        let refused = patch_roots(&mut txn, &json!({"a": {"x": 1}, "todo": {"x": 1}}));
        assert!(matches!(refused, Err(SyncError::NotAMap { root }) if root == "todo"));
        assert!(!txn.has_changes());
        assert!(matches!(patch_roots(&mut txn, &json!({"form": 1})), Err(SyncError::InvalidPatch(_))));
    }

    #[test]
    fn restore_makes_maps_equal_to_the_version() {
        let version = Doc::new();
        {
            let mut txn = version.transact_mut();
            let form = txn.get_or_insert_map("form");
            form.insert(&mut txn, "name", "Ada");
            let address = form.insert(&mut txn, "address", MapPrelim::default());
            address.insert(&mut txn, "city", "Paris");
            form.insert(&mut txn, "tags", ArrayPrelim::from(["a", "b"]));
        }
        let live = doc_with(json!({"name": "Grace", "extra": true}));
        patch_roots(&mut live.transact_mut(), &json!({"later": {"x": 1}})).unwrap();
        restore_roots(&mut live.transact_mut(), &version.transact());
        let txn = live.transact();
        assert_eq!(
            doc_to_json(&txn),
            json!({"form": {"name": "Ada", "address": {"city": "Paris"}, "tags": ["a", "b"]}, "later": {}})
        );
        let address = txn.get_map("form").unwrap().get(&txn, "address");
        assert!(matches!(address, Some(Out::YMap(_))), "shared types stay shared: {address:?}");
    }

    #[test]
    fn restoring_the_current_state_changes_nothing() {
        let live = doc_with(json!({"name": "Ada", "n": {"a": [1, 2]}}));
        let version = Doc::new();
        let state = live.transact().encode_state_as_update_v1(&Default::default());
        {
            use yrs::updates::decoder::Decode;
            version.transact_mut().apply_update(yrs::Update::decode_v1(&state).unwrap()).unwrap();
        }
        let mut txn = live.transact_mut();
        restore_roots(&mut txn, &version.transact());
        assert!(!txn.has_changes());
    }
}
