//! Validation of JSON bodies field by field, so that one 422 names every bad
//! field with the reason, in `details.fields`; and of free-text query
//! parameters (searches), which reach SQL as text.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::ApiError;

/// Longest search text accepted in a query string.
pub const MAX_SEARCH_LENGTH: usize = 200;

/// The query parameter `name` as search text: trimmed, `None` when absent or
/// blank; a 422 naming it when longer than [`MAX_SEARCH_LENGTH`] characters
/// or holding control characters (PostgreSQL refuses a NUL in text outright).
pub fn search_text(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    let Some(text) = query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_LENGTH {
        return Err(ApiError::invalid_field(
            name,
            format!("must be at most {MAX_SEARCH_LENGTH} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            name,
            "must not contain control characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

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

#[cfg(test)]
mod search_tests {
    use super::*;

    fn query(value: &str) -> HashMap<String, String> {
        HashMap::from([("q".to_owned(), value.to_owned())])
    }

    #[test]
    fn search_text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            search_text(&query("  mug "), "q").unwrap(),
            Some("mug".into())
        );
        assert_eq!(search_text(&query("   "), "q").unwrap(), None);
        assert_eq!(search_text(&HashMap::new(), "q").unwrap(), None);
        assert!(search_text(&query("a\0b"), "q").is_err());
        assert!(search_text(&query("\u{1b}[31m"), "q").is_err());
        assert!(search_text(&query(&"x".repeat(201)), "q").is_err());
        assert!(search_text(&query(&"é".repeat(200)), "q").is_ok());
    }
}

#[cfg(test)]
mod props {
    //! Search text and body fields on hostile input: accepted text is
    //! trimmed, bounded and printable; everything else is a 422 naming the
    //! field, never a panic.

    use proptest::prelude::*;

    use super::*;
    use testkit::hostile::{config, control_char, hostile_text, json_value};

    fn query(value: &str) -> HashMap<String, String> {
        HashMap::from([("q".to_owned(), value.to_owned())])
    }

    /// The fields a 422 names.
    fn named(error: &ApiError) -> Vec<String> {
        match error {
            ApiError::Validation(Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn accepted_search_text_is_trimmed_bounded_printable_and_stable(raw in hostile_text()) {
            match search_text(&query(&raw), "q") {
                Ok(Some(text)) => {
                    prop_assert_eq!(text.as_str(), raw.trim());
                    prop_assert!(!text.is_empty() && text.chars().count() <= MAX_SEARCH_LENGTH);
                    prop_assert!(!text.chars().any(char::is_control));
                    prop_assert_eq!(search_text(&query(&text), "q").ok(), Some(Some(text.clone())));
                }
                Ok(None) => prop_assert!(raw.trim().is_empty()),
                Err(refused) => prop_assert_eq!(named(&refused), ["q"]),
            }
        }

        #[test]
        fn search_text_with_a_control_character_or_overlong_is_refused(
            before in "[a-z]{1,20}",
            c in control_char(),
            after in "[a-z]{1,20}",
            extra in 1_usize..2000,
        ) {
            let controlled = format!("{before}{c}{after}");
            let refused = search_text(&query(&controlled), "q");
            prop_assert!(refused.is_err(), "{:?} accepted", controlled);
            let overlong = "é".repeat(MAX_SEARCH_LENGTH + extra);
            prop_assert!(search_text(&query(&overlong), "q").is_err());
        }

        #[test]
        fn a_field_of_any_json_type_is_read_or_named(value in json_value(), required in any::<bool>()) {
            let body = Map::from_iter([("f".to_owned(), value.clone())]);
            let mut fields = FieldErrors::default();
            let echo = |raw: &str| Ok::<_, String>(raw.to_owned());
            let read = if required {
                fields.required(&body, "f", echo)
            } else {
                fields.optional(&body, "f", echo)
            };
            let outcome = fields.into_result();
            match &value {
                Value::String(text) => prop_assert_eq!(read, Some(text.clone())),
                Value::Number(number) => prop_assert_eq!(read, Some(number.to_string())),
                Value::Null if !required => prop_assert!(read.is_none() && outcome.is_ok()),
                _ => {
                    prop_assert!(read.is_none());
                    let refused = outcome.err().map(|e| named(&e));
                    prop_assert_eq!(refused, Some(vec!["f".to_owned()]));
                }
            }
        }

        #[test]
        fn a_parser_error_names_its_field(raw in hostile_text()) {
            let body = Map::from_iter([("f".to_owned(), Value::String(raw))]);
            let mut fields = FieldErrors::default();
            let read = fields.required(&body, "f", |_| Err::<(), _>("is not acceptable"));
            prop_assert!(read.is_none());
            let refused = fields.into_result().err().map(|e| named(&e));
            prop_assert_eq!(refused, Some(vec!["f".to_owned()]));
        }
    }
}
