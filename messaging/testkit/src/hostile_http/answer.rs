//! A service's answer, and what is wrong with it under the edge's
//! conventions (no 5xx, every 4xx in the contract's error shape).

use serde_json::Value;

use super::shown;

/// What a service answered one request (status 0: no answer in time).
pub struct Answer {
    pub(super) head: bool,
    /// Status, content type and body; or why there was none.
    pub outcome: Result<(u16, String, Vec<u8>), String>,
}

impl Answer {
    /// The status code (0 when none came).
    pub fn status(&self) -> u16 {
        self.outcome.as_ref().map_or(0, |(status, _, _)| *status)
    }

    /// True for a 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status())
    }

    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        self.outcome
            .as_ref()
            .ok()
            .and_then(|(_, _, body)| serde_json::from_slice(body).ok())
            .unwrap_or(Value::Null)
    }

    /// What is wrong with this answer: no answer, a 5xx, or a 4xx that is
    /// not `{"error": {"code": "snake_case", "message": "...", "details": {}}}`
    /// in JSON.
    pub fn problem(&self) -> Option<String> {
        let (status, content_type, body) = match &self.outcome {
            Ok(answer) => answer,
            Err(error) => return Some(error.clone()),
        };
        if *status >= 500 {
            return Some(format!("answered {status}: {}", shown(body)));
        }
        if !(400..500).contains(status) {
            return None;
        }
        if !content_type.starts_with("application/json") {
            return Some(format!(
                "a {status} as {content_type:?}, not JSON: {}",
                shown(body)
            ));
        }
        // A HEAD answer has the headers of the GET, and no body.
        if self.head {
            return None;
        }
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let error = parsed
            .as_ref()
            .and_then(Value::as_object)
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("error"));
        let code = error.and_then(|e| e["code"].as_str()).unwrap_or("");
        let shaped = error.is_some_and(|e| {
            e["message"].as_str().is_some_and(|m| !m.is_empty()) && e["details"].is_object()
        }) && !code.is_empty()
            && code.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        (!shaped).then(|| format!("a {status} not in the error shape: {}", shown(body)))
    }
}
