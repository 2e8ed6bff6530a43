//! Property tests of the request parsers of this domain (product fields and
//! checkout requests) on hostile bodies: never a panic; what is accepted is
//! within the documented bounds and parses back to itself; every refusal is
//! a 422 naming the fields at fault. One fixed seed, so that each run tries
//! the same inputs.

mod checkout;
mod product;

use edge::error::ApiError;
use proptest::{
    prelude::*,
    test_runner::{Config, RngSeed},
};
use serde_json::{Map, Value, json};

/// Inputs each property tries.
const CASES: u32 = 512;

fn config() -> Config {
    Config {
        rng_seed: RngSeed::Fixed(0x1200_0007),
        failure_persistence: None,
        ..Config::with_cases(CASES)
    }
}

/// C0, DEL and C1 control characters.
fn control_char() -> impl Strategy<Value = char> {
    prop_oneof![
        (0_u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
        Just('\u{7f}'),
        (0x80_u32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
    ]
}

/// Anything at all, control characters, overlong runs and a few classics.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
        (".", 101_usize..3000).prop_map(|(c, n)| c.repeat(n)),
        prop::sample::select(vec![
            "",
            " ",
            "\u{0}",
            "null",
            "-1",
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
            "'; DROP TABLE products; --",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
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
