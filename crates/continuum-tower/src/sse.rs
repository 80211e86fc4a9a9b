//! [`SseParser`]: `text/event-stream` bytes to events, fed chunk by chunk as they arrive. Pure.
//! Enough of the WHATWG format for Continuum's `/v1/events`: `id`, `event`, `data` (lines
//! joined with `\n`), comments skipped, `\n` or `\r\n` line ends.

/// One event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// Its `id`, if it had one.
    pub id: Option<String>,
    /// Its `event` type (`message` when none was given).
    pub event: String,
    /// Its `data`.
    pub data: String,
}

/// Buffers partial lines between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    current: SseEvent,
    has_data: bool,
}

impl SseParser {
    /// Feeds `chunk`; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                events.push(event);
            }
        }
        events
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let mut event = std::mem::take(&mut self.current);
            let dispatch = self.has_data || !event.event.is_empty();
            self.has_data = false;
            if event.event.is_empty() {
                event.event = "message".to_owned();
            }
            return dispatch.then_some(event);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => self.current.id = Some(value.to_owned()),
            "event" => self.current.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let text = ": keep-alive\n\nid: 7\nevent: revoked\ndata: {\"sid\":\"a\"}\r\n\r\nevent: reset\ndata: x\ndata: y\n\n";
        for split in 0..text.len() {
            let mut parser = SseParser::default();
            let mut events = parser.push(&text.as_bytes()[..split]);
            events.extend(parser.push(&text.as_bytes()[split..]));
            assert_eq!(events.len(), 2, "split at {split}");
            assert_eq!(events[0].id.as_deref(), Some("7"));
            assert_eq!(events[0].event, "revoked");
            assert_eq!(events[0].data, "{\"sid\":\"a\"}");
            assert_eq!(events[1], SseEvent { id: None, event: "reset".into(), data: "x\ny".into() });
        }
    }
}
