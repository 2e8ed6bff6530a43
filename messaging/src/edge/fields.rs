//! Validation of JSON bodies field by field, so that one 422 names every bad
//! field with the reason, in `details.fields`.

use serde_json::{Map, Value};

use super::error::ApiError;

/// Collects every invalid field of a body, so that one 422 lists them all.
#[derive(Default)]
pub struct FieldErrors(Map<String, Value>);

impl FieldErrors {
    /// Records that `field` is invalid.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .insert(field.to_owned(), Value::String(message.into()));
    }

    /// Parses a field that must be present.
    pub fn required<T, E: std::fmt::Display>(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        if body.get(field).is_none_or(Value::is_null) {
            self.add(field, "is required");
            return None;
        }
        self.optional(body, field, parse)
    }

    /// Parses a field that may be absent or null.
    pub fn optional<T, E: std::fmt::Display>(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = match body.get(field)? {
            Value::Null => return None,
            Value::String(text) => text.clone(),
            // Amounts are strings ("19.90"); a plain JSON number is read as its
            // literal digits, never through a float.
            Value::Number(number) => number.to_string(),
            _ => {
                self.add(field, "must be a string");
                return None;
            }
        };
        parse(&text)
            .map_err(|e| self.add(field, e.to_string()))
            .ok()
    }

    /// A 422 listing every invalid field, if any.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(Value::Object(self.0)))
        }
    }
}
