//! [`Limits`] on what a client may send: body size, attribute size, JSON depth, field lengths.

use serde_json::{Map, Value};

/// Why input was refused for its size or shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// The request body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The session's attributes would be larger than allowed.
    #[error("attributes would be {actual} bytes as JSON; at most {limit} are allowed")]
    AttributesTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The size they would have.
        actual: usize,
    },
    /// JSON nested deeper than allowed.
    #[error("JSON is nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in levels.
        limit: usize,
    },
    /// A text field is longer than allowed.
    #[error("`{field}` is {actual} bytes long; at most {limit} are allowed")]
    FieldTooLong {
        /// The field's name.
        field: &'static str,
        /// The limit in bytes.
        limit: usize,
        /// Its length.
        actual: usize,
    },
}

/// Size limits on client input. The defaults are what the server uses unless configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest attributes object of one session, serialized as JSON, in bytes.
    pub max_attributes_bytes: usize,
    /// Deepest nesting of arrays and objects in a request body.
    pub max_json_depth: usize,
    /// Longest device label, in bytes.
    pub max_label_bytes: usize,
    /// Longest user agent, in bytes.
    pub max_user_agent_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_attributes_bytes: 16 * 1024,
            max_json_depth: 16,
            max_label_bytes: 128,
            max_user_agent_bytes: 512,
        }
    }
}

impl Limits {
    /// Refuses attributes larger than [`Limits::max_attributes_bytes`] once serialized.
    pub fn check_attributes(&self, attributes: &Map<String, Value>) -> Result<(), LimitError> {
        let actual = json_len(attributes);
        if actual > self.max_attributes_bytes {
            return Err(LimitError::AttributesTooLarge { limit: self.max_attributes_bytes, actual });
        }
        Ok(())
    }

    /// Refuses a text field longer than `limit` bytes.
    pub fn check_field(field: &'static str, value: &str, limit: usize) -> Result<(), LimitError> {
        if value.len() > limit {
            return Err(LimitError::FieldTooLong { field, limit, actual: value.len() });
        }
        Ok(())
    }

    /// Refuses a body nested deeper than [`Limits::max_json_depth`], before it is parsed.
    pub fn check_depth(&self, body: &[u8]) -> Result<(), LimitError> {
        if json_depth(body) > self.max_json_depth {
            return Err(LimitError::TooDeep { limit: self.max_json_depth });
        }
        Ok(())
    }
}

/// The serialized length of a JSON object, without allocating the text.
fn json_len(value: &Map<String, Value>) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail and a Map always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The deepest nesting of `[` and `{` in `body`, ignoring brackets inside strings.
///
/// A scan over bytes, so that a hostile body cannot make the parser recurse before it is refused.
/// Malformed JSON gets a number too; the parser refuses it afterwards.
pub fn json_depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a":[1,{"b":"[[[{{{"}]}"#), 3);
        assert_eq!(json_depth(br#"{"a":"\"[[["}"#), 1);
        assert_eq!(json_depth(b"42"), 0);
        assert_eq!(json_depth(&[b'['; 1000]), 1000);
    }

    #[test]
    fn attribute_size_is_the_serialized_length() {
        let limits = Limits { max_attributes_bytes: 12, ..Limits::default() };
        let Value::Object(small) = json!({"ab": "cdef"}) else { unreachable!() };
        assert_eq!(json_len(&small), r#"{"ab":"cdef"}"#.len());
        assert!(limits.check_attributes(&small).is_err());
        let Value::Object(tiny) = json!({"a": 1}) else { unreachable!() };
        assert!(limits.check_attributes(&tiny).is_ok());
    }
}
