//! JSON views of yrs values: `Any` to and from JSON, a document's roots as one JSON object, and
//! RFC 7396 merge patches on plain JSON.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map as JsonMap, Number as JsonNumber, Value};
use yrs::branch::BranchPtr;
use yrs::types::{AsPrelim, ToJson};
use yrs::{Any, ArrayRef, GetString, In, MapRef, Number, Out, ReadTxn, TextRef, XmlFragmentRef};

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// JSON for a yrs value: maps as objects, arrays as arrays, `undefined` as `null`, buffers as
/// arrays of bytes, integral floats in the safe range as integers (yjs sends large integers as
/// floats).
pub fn any_to_json(any: &Any) -> Value {
    match any {
        Any::Null | Any::Undefined => Value::Null,
        Any::Bool(b) => Value::Bool(*b),
        Any::Number(Number::Int(i)) => Value::from(*i),
        Any::Number(Number::Float(f)) => float_to_json(*f),
        Any::String(s) => Value::String(s.to_string()),
        Any::Buffer(bytes) => Value::Array(bytes.iter().map(|b| Value::from(*b)).collect()),
        Any::Array(items) => Value::Array(items.iter().map(any_to_json).collect()),
        Any::Map(entries) => {
            Value::Object(entries.iter().map(|(key, value)| (key.clone(), any_to_json(value))).collect())
        }
    }
}

fn float_to_json(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 {
        return Value::from(f as i64);
    }
    JsonNumber::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A yrs value for JSON: integers in JavaScript's safe range as integers, every other number as
/// a float, objects as plain (non-collaborative) maps.
pub fn json_to_any(value: &Value) -> Any {
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.abs() <= MAX_SAFE_INTEGER => Any::Number(Number::Int(i)),
            _ => Any::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Any::String(Arc::from(s.as_str())),
        Value::Array(items) => Any::Array(items.iter().map(json_to_any).collect()),
        Value::Object(entries) => Any::Map(Arc::new(
            entries.iter().map(|(key, value)| (key.clone(), json_to_any(value))).collect::<HashMap<_, _>>(),
        )),
    }
}

/// JSON for any value a shared type holds: nested maps as objects, arrays as arrays, text as
/// strings.
pub fn out_to_json<T: ReadTxn>(txn: &T, out: &Out) -> Value {
    match out {
        Out::Any(any) => any_to_json(any),
        Out::YText(text) => Value::String(text.get_string(txn)),
        Out::YXmlText(text) => Value::String(text.get_string(txn)),
        Out::YXmlElement(xml) => Value::String(xml.get_string(txn)),
        Out::YXmlFragment(xml) => Value::String(xml.get_string(txn)),
        Out::YDoc(_) => Value::Null,
        Out::UndefinedRef(branch) => match undefined_shape(txn, *branch) {
            Shape::Map => any_to_json(&MapRef::from(*branch).to_json(txn)),
            Shape::Array => any_to_json(&ArrayRef::from(*branch).to_json(txn)),
            Shape::Text => Value::String(TextRef::from(*branch).get_string(txn)),
            Shape::Xml => Value::String(XmlFragmentRef::from(*branch).get_string(txn)),
        },
        other => any_to_json(&other.to_json(txn)),
    }
}

/// What a shared type of undefined type holds.
enum Shape {
    Map,
    Array,
    Text,
    Xml,
}

/// Map entries and no sequence (or nothing at all) make a map; otherwise yrs' own inference
/// (which copies the content, so it is asked only for sequences) tells text from array.
fn undefined_shape<T: ReadTxn>(txn: &T, branch: BranchPtr) -> Shape {
    if branch.len() == 0 {
        return Shape::Map;
    }
    match Out::UndefinedRef(branch).as_prelim(txn) {
        In::Map(_) => Shape::Map,
        In::Array(_) => Shape::Array,
        In::Text(_) => Shape::Text,
        _ => Shape::Xml,
    }
}

/// The whole document: one member per root-level shared type, sorted by name.
pub fn doc_to_json<T: ReadTxn>(txn: &T) -> Value {
    let mut roots: Vec<(String, Value)> =
        txn.root_refs().map(|(name, out)| (name.to_owned(), out_to_json(txn, &out))).collect();
    roots.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(roots.into_iter().collect())
}

/// What a root-level shared type is, as far as JSON patches care.
#[derive(Debug, PartialEq, Eq)]
pub enum RootKind {
    /// No such root yet.
    Absent,
    /// A map, or a root of undefined type holding map entries (or nothing).
    Map,
    /// An array, text or XML root.
    Other,
}

/// The kind of the root `name`. Roots created by a remote update have no type until first
/// typed access; their content decides.
pub fn root_kind<T: ReadTxn>(txn: &T, name: &str) -> RootKind {
    match txn.get(name) {
        None => RootKind::Absent,
        Some(Out::YMap(_)) => RootKind::Map,
        Some(Out::UndefinedRef(branch)) => match undefined_shape(txn, branch) {
            Shape::Map => RootKind::Map,
            _ => RootKind::Other,
        },
        Some(_) => RootKind::Other,
    }
}

/// Applies an RFC 7396 merge patch to plain JSON: objects merge member by member, `null`
/// deletes a member, anything else replaces the target.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(JsonMap::new());
    }
    let Value::Object(target_members) = target else { unreachable!("made an object above") };
    for (key, value) in members {
        if value.is_null() {
            target_members.remove(key);
        } else {
            merge_patch(target_members.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// The root patches of a document patch: an object whose members name root maps, each an
/// object (a merge patch for that map) or `null` (clear the map).
pub fn root_patches(patch: &Value) -> Result<&JsonMap<String, Value>, crate::SyncError> {
    let Value::Object(roots) = patch else {
        return Err(crate::SyncError::InvalidPatch("a document patch is a JSON object of root maps"));
    };
    if roots.values().any(|value| !(value.is_object() || value.is_null())) {
        return Err(crate::SyncError::InvalidPatch("each root's patch is an object or null"));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use yrs::updates::decoder::Decode;
    use yrs::{Array, Doc, Map, MapPrelim, Text, Transact, Update, WriteTxn};

    use super::*;

    #[test]
    fn rfc_7396_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected, "patch {patch}");
        }
    }

    #[test]
    fn json_and_any_round_trip() {
        let value = json!({"s": "x", "n": 3, "f": 1.5, "b": true, "z": null, "a": [1, "two", {"k": []}]});
        assert_eq!(any_to_json(&json_to_any(&value)), value);
    }

    #[test]
    fn numbers_follow_javascript() {
        assert_eq!(json_to_any(&json!(7)), Any::Number(Number::Int(7)));
        assert_eq!(
            json_to_any(&json!(9_007_199_254_740_993_i64)),
            Any::Number(Number::Float(9_007_199_254_740_992.0))
        );
        assert_eq!(any_to_json(&Any::Number(Number::Float(4.0))), json!(4));
        assert_eq!(any_to_json(&Any::Number(Number::Float(f64::NAN))), Value::Null);
        assert_eq!(any_to_json(&Any::Undefined), Value::Null);
        assert_eq!(any_to_json(&Any::Buffer(Arc::from(&[1u8, 2][..]))), json!([1, 2]));
    }

    #[test]
    fn a_doc_is_an_object_of_its_roots() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let form = txn.get_or_insert_map("form");
            form.insert(&mut txn, "name", "Ada");
            let address = form.insert(&mut txn, "address", MapPrelim::default());
            address.insert(&mut txn, "city", "London");
            form.insert(&mut txn, "plain", Any::from_json(r#"{"x": 1}"#).unwrap());
            txn.get_or_insert_array("todo").push_back(&mut txn, "write tests");
            txn.get_or_insert_text("notes").push(&mut txn, "hi");
        }
        assert_eq!(
            doc_to_json(&doc.transact()),
            json!({
                "form": {"name": "Ada", "address": {"city": "London"}, "plain": {"x": 1}},
                "notes": "hi",
                "todo": ["write tests"],
            })
        );
    }

    #[test]
    fn roots_from_remote_updates_are_typed_by_their_content() {
        let source = Doc::new();
        {
            let mut txn = source.transact_mut();
            txn.get_or_insert_map("form").insert(&mut txn, "step", 2);
            txn.get_or_insert_array("list").push_back(&mut txn, 1);
            txn.get_or_insert_text("text").push(&mut txn, "abc");
        }
        let state = source.transact().encode_state_as_update_v1(&Default::default());
        let replica = Doc::new();
        replica.transact_mut().apply_update(Update::decode_v1(&state).unwrap()).unwrap();
        let txn = replica.transact();
        assert!(matches!(txn.get("form"), Some(Out::UndefinedRef(_))), "untyped until first access");
        assert_eq!(root_kind(&txn, "form"), RootKind::Map);
        assert_eq!(root_kind(&txn, "list"), RootKind::Other);
        assert_eq!(root_kind(&txn, "text"), RootKind::Other);
        assert_eq!(root_kind(&txn, "nothing"), RootKind::Absent);
        assert_eq!(doc_to_json(&txn), json!({"form": {"step": 2}, "list": [1], "text": "abc"}));
    }

    /// Two updates written by yjs 13.6.33 (Node, client id 4242): a transaction setting plain
    /// values, a nested Y.Map, an array and text, then one deleting a key and an element.
    const YJS_UPDATES: [&str; 2] = [
        "0109922100280104666f726d046e616d65017703416461280104666f726d0473746570017d02280104666f726d03626967017c53800000280104666f726d05726174696f017c3e800000280104666f726d05706c61696e01760201617d0101627502787e270104666f726d076164647265737301280092210504636974790177055061726973080104746f646f0277037061797704736869700401056e6f7465730b68c3a96c6c6f20f09f918b00",
        "000192210201010701",
    ];

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn yjs_updates_read_as_yjs_shows_them() {
        let doc = Doc::new();
        for update in YJS_UPDATES {
            doc.transact_mut().apply_update(Update::decode_v1(&unhex(update)).unwrap()).unwrap();
        }
        // What `toJSON()` printed in Node; yjs sent 2^40 as a float32.
        assert_eq!(
            doc_to_json(&doc.transact()),
            json!({
                "form": {"name": "Ada", "big": 1_099_511_627_776_i64, "ratio": 0.25, "plain": {"a": 1, "b": [true, null]}, "address": {"city": "Paris"}},
                "todo": ["ship"],
                "notes": "héllo 👋",
            })
        );
        assert_eq!(root_kind(&doc.transact(), "form"), RootKind::Map);
        assert_eq!(root_kind(&doc.transact(), "notes"), RootKind::Other);
    }

    #[test]
    fn document_patches_are_objects_of_objects_or_null() {
        assert!(root_patches(&json!({"form": {"a": 1}, "old": null})).is_ok());
        assert!(root_patches(&json!([1])).is_err());
        assert!(root_patches(&json!({"form": 3})).is_err());
    }
}
