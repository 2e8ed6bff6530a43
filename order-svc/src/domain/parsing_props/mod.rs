//! Property tests of the request parsers of this domain (product fields and
//! checkout requests) on hostile bodies: never a panic; what is accepted is
//! within the documented bounds and parses back to itself; every refusal is
//! a 422 naming the fields at fault. One fixed seed, so that each run tries
//! the same inputs.

mod checkout;
mod product;

use edge::error::ApiError;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use testkit::hostile::{config, control_char, hostile_text_and, json_value};

/// Hostile text, with the near misses of product and checkout fields.
fn hostile_text() -> impl Strategy<Value = String> {
    hostile_text_and(&[
        "+5",
        "05",
        "1e3",
        "1_000",
        "12.345",
        "eur",
        "EUR ",
        "javascript:alert(1)",
        "//evil.example/x.png",
        "/ok.png",
        "https://cdn.example.com/x.png",
        "Eve <eve@example.com>",
    ])
}

/// A bool, an array or an object: no field of either body is one of those.
fn neither_string_nor_number() -> impl Strategy<Value = Value> {
    json_value().prop_map(|value| match value {
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => value,
        Value::Null | Value::Number(_) => Value::Bool(true),
        Value::String(text) => json!([text]),
    })
}

/// The fields a 422 names; any other error fails the property.
fn named(error: &ApiError) -> Result<Vec<String>, TestCaseError> {
    match error {
        ApiError::Validation(Value::Object(fields)) if !fields.is_empty() => {
            for message in fields.values() {
                prop_assert!(message.as_str().is_some_and(|m| !m.is_empty()));
            }
            Ok(fields.keys().cloned().collect())
        }
        other => Err(TestCaseError::fail(format!(
            "not a 422 naming fields: {other:?}"
        ))),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}
