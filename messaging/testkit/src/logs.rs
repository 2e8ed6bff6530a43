//! Log lines as `LOG_FORMAT=json` writes them, captured in memory (from a
//! subscriber of this process, or from a child process's stdout), so that a
//! test can find the lines one request caused by its `request_id`.

use std::{
    io::{BufRead, BufReader, Read, Write},
    sync::{Arc, Mutex, PoisonError},
};

use serde_json::Value;

/// JSON log lines written so far. Cheap to clone; clones share the lines.
#[derive(Clone, Default)]
pub struct JsonLog {
    bytes: Arc<Mutex<Vec<u8>>>,
}

/// Appends what a subscriber writes to a [`JsonLog`].
pub struct JsonLogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for JsonLogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl JsonLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer factory for a `tracing_subscriber` (`with_writer`): every
    /// line it writes lands here.
    pub fn writer(&self) -> impl Fn() -> JsonLogWriter + Send + Sync + 'static {
        let bytes = self.bytes.clone();
        move || JsonLogWriter(bytes.clone())
    }

    /// Copies `output` (a child's stdout) here, line by line, on a thread of
    /// its own until the output ends.
    pub fn read_from(&self, output: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
        let mut writer = JsonLogWriter(self.bytes.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                let _ = writeln!(writer, "{line}");
            }
        })
    }

    /// The complete lines that are JSON objects, in the order written.
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(&bytes[..0], |end| &bytes[..end]);
        String::from_utf8_lossy(complete)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// The lines that carry `request_id`.
    pub fn carrying(&self, request_id: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| carries(line, request_id))
            .collect()
    }
}

/// True when `line` carries `request_id` as a field of that name: of the
/// event itself, of its current span (`span`), or of any span it is in
/// (`spans`).
pub fn carries(line: &Value, request_id: &str) -> bool {
    let has = |fields: &Value| fields["request_id"] == request_id;
    has(line)
        || has(&line["span"])
        || line["spans"]
            .as_array()
            .is_some_and(|spans| spans.iter().any(has))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_line_carries_the_id_at_the_top_in_its_span_or_in_an_outer_one() {
        let log = JsonLog::new();
        let mut writer = log.writer()();
        for line in [
            json!({"message": "a", "request_id": "r1"}),
            json!({"message": "b", "span": {"name": "http", "request_id": "r1"}}),
            json!({"message": "c", "span": {"name": "saga"}, "spans": [{"request_id": "r1"}, {"name": "saga"}]}),
            json!({"message": "d", "span": {"request_id": "r2"}}),
        ] {
            writeln!(writer, "{line}").unwrap();
        }
        write!(
            writer,
            "{{\"message\": \"half a line\", \"request_id\": \"r1\""
        )
        .unwrap();
        let messages: Vec<Value> = log
            .carrying("r1")
            .iter()
            .map(|l| l["message"].clone())
            .collect();
        assert_eq!(messages, ["a", "b", "c"]);
        assert_eq!(log.lines().len(), 4);
    }
}
