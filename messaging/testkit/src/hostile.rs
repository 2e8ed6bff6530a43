//! Hostile input for the property tests of the parsers and message
//! decoders: arbitrary bytes and strings, JSON values of every type, and
//! mutations of valid messages. One fixed seed, so that every run
//! tries the same inputs and a failure is reproduced by running it again.

use std::fmt::Debug;

use proptest::{
    prelude::*,
    sample::Index,
    test_runner::{Config, RngSeed, TestCaseError, TestRunner},
};
use serde_json::Value;

/// Inputs each property tries.
pub const CASES: u32 = 512;

/// Every property of this crate: [`CASES`] inputs from a fixed seed.
pub fn config() -> Config {
    Config {
        rng_seed: RngSeed::Fixed(0x1200_0007),
        // A fixed seed reproduces a failure; nothing to write into the tree.
        failure_persistence: None,
        ..Config::with_cases(CASES)
    }
}

/// Characters that are control characters (`char::is_control`): C0, DEL, C1.
pub fn control_char() -> impl Strategy<Value = char> {
    prop_oneof![
        (0_u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
        Just('\u{7f}'),
        (0x80_u32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
    ]
}

/// Strings an attacker or a confused client sends: anything at all, control
/// characters, overlong runs, and a few classics.
pub fn hostile_text() -> impl Strategy<Value = String> {
    hostile_text_and(&[])
}

/// [`hostile_text`], and also the near misses of one domain (`"EUR "` for
/// a currency, `"blocked "` for a status), which arbitrary text rarely hits.
pub fn hostile_text_and(near_misses: &'static [&'static str]) -> impl Strategy<Value = String> {
    const CLASSICS: &[&str] = &[
        "",
        " ",
        "\u{0}",
        "%00",
        "null",
        "NaN",
        "-1",
        "1e400",
        "0x10",
        "'; DROP TABLE customers; --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "\u{202e}gnp.exe",
        "\u{feff}",
        "\u{fffd}",
        "🦀",
    ];
    let known: Vec<&'static str> = CLASSICS.iter().chain(near_misses).copied().collect();
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f]{1,8}",
        ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
        (".", 101_usize..5000).prop_map(|(c, n)| c.repeat(n)),
        prop::sample::select(known).prop_map(str::to_owned),
    ]
}

/// Any JSON value, nested a little.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A JSON value whose type differs from `original`'s (a number for a
/// string, a string for an object, ...).
pub fn another_type_than(original: &Value) -> BoxedStrategy<Value> {
    let kind = kind_of(original);
    let choices: Vec<BoxedStrategy<Value>> = [
        Just(Value::Null).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        any::<i64>().prop_map(Value::from).boxed(),
        hostile_text().prop_map(Value::String).boxed(),
        prop::collection::vec(json_value(), 0..3)
            .prop_map(Value::Array)
            .boxed(),
        prop::collection::btree_map(".{0,8}", json_value(), 0..3)
            .prop_map(|fields| Value::Object(fields.into_iter().collect()))
            .boxed(),
    ]
    .into_iter()
    .enumerate()
    .filter(|(index, _)| *index != kind)
    .map(|(_, strategy)| strategy)
    .collect();
    prop::strategy::Union::new(choices).boxed()
}

fn kind_of(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A byte-level change to an encoded message.
#[derive(Debug, Clone)]
pub enum ByteMutation {
    /// Overwrite one byte.
    Overwrite(Index, u8),
    /// Insert one byte.
    Insert(Index, u8),
    /// Delete one byte.
    Delete(Index),
    /// Swap two bytes.
    Swap(Index, Index),
}

impl ByteMutation {
    /// Any byte mutation.
    pub fn any() -> impl Strategy<Value = Self> {
        prop_oneof![
            (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Self::Overwrite(at, b)),
            (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Self::Insert(at, b)),
            any::<Index>().prop_map(Self::Delete),
            (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Self::Swap(a, b)),
        ]
    }

    /// `bytes` (not empty) with this change.
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        match self {
            Self::Overwrite(at, b) => out[at.index(bytes.len())] = *b,
            Self::Insert(at, b) => out.insert(at.index(bytes.len() + 1), *b),
            Self::Delete(at) => {
                out.remove(at.index(bytes.len()));
            }
            Self::Swap(a, b) => out.swap(a.index(bytes.len()), b.index(bytes.len())),
        }
        out
    }
}

/// What a decoder is, for [`check_decoder`].
pub struct DecoderUnderTest<'a, T> {
    /// A message the decoder accepts.
    pub valid: Value,
    /// JSON pointers of the fields it cannot do without (each one, removed
    /// or given a value of another type, makes the message undecodable).
    pub required: &'a [&'a str],
    /// JSON pointers of the fields that hold an email, a name or an amount:
    /// hostile text there is refused too.
    pub values: &'a [&'a str],
    /// The decoder.
    pub decode: &'a dyn Fn(&[u8]) -> Result<T, String>,
    /// What every accepted message satisfies (round-trips, typically).
    pub accepted: &'a dyn Fn(&T) -> Result<(), TestCaseError>,
}

/// The properties every message decoder has, each tried with [`CASES`]
/// inputs: arbitrary bytes, strict prefixes of a valid message, a required
/// field missing or of another type, hostile text in a value field, and
/// unchanged JSON nested past the parser's depth limit are refused; byte
/// mutations and arbitrary replacements never panic and, when accepted,
/// satisfy `accepted`. Answers how many inputs it tried.
pub fn check_decoder<T: Debug>(decoder: DecoderUnderTest<'_, T>) -> u32 {
    let valid_bytes = serde_json::to_vec(&decoder.valid).unwrap_or_default();
    assert!(
        (decoder.decode)(&valid_bytes).is_ok(),
        "the valid message decodes"
    );
    let refused = |bytes: &[u8], what: &str| -> Result<(), TestCaseError> {
        match (decoder.decode)(bytes) {
            Err(_) => Ok(()),
            Ok(decoded) => Err(TestCaseError::fail(format!(
                "{what} was accepted as {decoded:?}: {}",
                String::from_utf8_lossy(bytes)
            ))),
        }
    };
    let never_panics = |bytes: &[u8]| -> Result<(), TestCaseError> {
        match (decoder.decode)(bytes) {
            Ok(decoded) => (decoder.accepted)(&decoded),
            Err(_) => Ok(()),
        }
    };

    run(
        "arbitrary bytes",
        &prop::collection::vec(any::<u8>(), 0..512),
        |bytes| refused(&bytes, "arbitrary bytes"),
    );
    run("a strict prefix", &any::<Index>(), |cut| {
        let end = cut.index(valid_bytes.len());
        refused(&valid_bytes[..end], "a truncated message")
    });
    run("a byte mutation", &ByteMutation::any(), |mutation| {
        never_panics(&mutation.apply(&valid_bytes))
    });
    let owned = |pointers: &[&str]| pointers.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let required = prop::sample::select(owned(decoder.required));
    run("a required field removed", &required, |pointer| {
        let mut message = decoder.valid.clone();
        remove(&mut message, &pointer);
        refused(&to_vec(&message), &format!("{pointer} removed"))
    });
    let valid = decoder.valid.clone();
    let retyped = required.prop_flat_map(move |pointer| {
        let original = valid.pointer(&pointer).cloned().unwrap_or_default();
        (Just(pointer), another_type_than(&original))
    });
    run(
        "a required field of another type",
        &retyped,
        |(pointer, value)| {
            let mut message = decoder.valid.clone();
            replace(&mut message, &pointer, value);
            refused(&to_vec(&message), &format!("{pointer} of another type"))
        },
    );
    let mut tried = 6 * CASES;
    if !decoder.values.is_empty() {
        tried += CASES;
        let hostile = (
            prop::sample::select(owned(decoder.values)),
            hostile_value_text(),
        );
        run("hostile text in a value", &hostile, |(pointer, text)| {
            let mut message = decoder.valid.clone();
            replace(&mut message, &pointer, Value::String(text));
            refused(&to_vec(&message), &format!("hostile {pointer}"))
        });
    }
    let paths = all_pointers(&decoder.valid);
    let anything = (prop::sample::select(paths), json_value());
    run("any field replaced", &anything, |(pointer, value)| {
        let mut message = decoder.valid.clone();
        replace(&mut message, &pointer, value);
        never_panics(&to_vec(&message))
    });

    // Nesting past serde_json's depth limit: skipped as an unknown field
    // (without recursion, so without overflowing the stack), refused where
    // a field is read.
    for depth in [129, 10_000, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = String::from_utf8_lossy(&valid_bytes).into_owned();
        let unknown = format!("{{\"_\":{nested},{}", &text[1..]);
        if let Err(failure) = never_panics(unknown.as_bytes()) {
            panic!("an unknown field nested {depth} deep: {failure}");
        }
        for pointer in decoder.required {
            let mut message = decoder.valid.clone();
            replace(
                &mut message,
                pointer,
                Value::String("\u{0}nest\u{0}".into()),
            );
            let text = String::from_utf8_lossy(&to_vec(&message)).replacen(
                "\"\\u0000nest\\u0000\"",
                &nested,
                1,
            );
            assert!(
                (decoder.decode)(text.as_bytes()).is_err(),
                "{pointer} nested {depth} deep was accepted"
            );
        }
        tried += 1 + decoder.required.len() as u32;
    }
    tried
}

/// Text that no email, name or amount may be: blank, control characters
/// inside, or overlong.
fn hostile_value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-z]{1,8}", control_char(), "[a-z]{1,8}@example\\.com")
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        (".", 255_usize..2000).prop_map(|(c, n)| c.repeat(n)),
        prop::sample::select(vec!["", " ", "\u{0}", "\t\r\n", "a\u{0}b", "a\u{1b}[31mb"])
            .prop_map(str::to_owned),
    ]
}

fn run<S: Strategy>(what: &str, strategy: &S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: Debug,
{
    let mut runner = TestRunner::new(config());
    if let Err(failure) = runner.run(strategy, test) {
        panic!("{what}: {failure}");
    }
}

fn to_vec(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Every JSON pointer into `value` (its root included).
fn all_pointers(value: &Value) -> Vec<String> {
    let mut pointers = vec![String::new()];
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                pointers.extend(
                    all_pointers(inner)
                        .into_iter()
                        .map(|rest| format!("/{escaped}{rest}")),
                );
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                pointers.extend(
                    all_pointers(inner)
                        .into_iter()
                        .map(|rest| format!("/{index}{rest}")),
                );
            }
        }
        _ => {}
    }
    pointers
}

fn replace(message: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = message.pointer_mut(pointer) {
        *slot = value;
    }
}

fn remove(message: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(fields)) = message.pointer_mut(parent) {
        fields.remove(key);
    }
}
