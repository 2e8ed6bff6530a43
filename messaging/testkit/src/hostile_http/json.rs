//! JSON as a hostile client writes it (duplicate keys, odd numbers), and
//! strategies for its values.

use proptest::prelude::*;

use super::hostile_text;

/// A JSON text as a client may write it: duplicate keys and numbers that
/// no JSON library would produce included.
#[derive(Debug, Clone)]
pub enum J {
    /// A literal written as is (`null`, `1e400`, `-0`).
    Raw(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// Keys in order, repeats allowed.
    Obj(Vec<(String, J)>),
}

impl J {
    /// Text written into the JSON as is (a number, a literal).
    pub fn raw(text: &str) -> Self {
        Self::Raw(text.to_owned())
    }

    /// A JSON string.
    pub fn str(text: &str) -> Self {
        Self::Str(text.to_owned())
    }

    /// An object of these fields, in this order.
    pub fn obj<const N: usize>(fields: [(&str, J); N]) -> Self {
        Self::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Raw(text) => out.push_str(text),
            J::Str(text) => out.push_str(&serde_json::to_string(text).unwrap_or_default()),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    J::Str(key.clone()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The JSON text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Every place a value sits, as a path of indices.
    pub(super) fn slots(&self) -> Vec<Vec<usize>> {
        let mut slots = Vec::new();
        let children: Vec<&J> = match self {
            J::Arr(items) => items.iter().collect(),
            J::Obj(fields) => fields.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        for (i, child) in children.into_iter().enumerate() {
            slots.push(vec![i]);
            slots.extend(child.slots().into_iter().map(|mut rest| {
                rest.insert(0, i);
                rest
            }));
        }
        slots
    }

    pub(super) fn at_mut(&mut self, slot: &[usize]) -> Option<&mut J> {
        let Some((first, rest)) = slot.split_first() else {
            return Some(self);
        };
        let child = match self {
            J::Arr(items) => items.get_mut(*first)?,
            J::Obj(fields) => &mut fields.get_mut(*first)?.1,
            _ => return None,
        };
        child.at_mut(rest)
    }

    fn kind(&self) -> u8 {
        match self {
            J::Raw(text) if text == "null" => 0,
            J::Raw(text) if text == "true" || text == "false" => 1,
            J::Raw(_) => 2,
            J::Str(_) => 3,
            J::Arr(_) => 4,
            J::Obj(_) => 5,
        }
    }
}

/// A literal JSON number nobody should have to handle.
pub fn odd_number() -> impl Strategy<Value = J> {
    prop_oneof![
        any::<i64>().prop_map(|n| J::Raw(n.to_string())),
        any::<u64>().prop_map(|n| J::Raw(n.to_string())),
        any::<f64>().prop_map(|f| J::Raw(
            serde_json::Number::from_f64(f).map_or("0".to_owned(), |n| n.to_string())
        )),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "123456789012345678901234567890",
            "-0",
            "0.1e-400",
            "1E2",
            "1.0",
            "-9223372036854775809",
            "18446744073709551616",
            "0.0000001",
            "1e-7",
            "4294967296",
        ])
        .prop_map(J::raw),
    ]
}

/// Any JSON value, nested a little, with odd numbers and hostile strings.
pub fn any_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::raw("null")),
        any::<bool>().prop_map(|b| J::Raw(b.to_string())),
        odd_number(),
        hostile_text().prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((".{0,8}", inner), 0..4).prop_map(J::Obj),
        ]
    })
}

/// A value of another JSON type than `original`.
pub(super) fn another_type(original: &J) -> BoxedStrategy<J> {
    let kind = original.kind();
    let all: Vec<(u8, BoxedStrategy<J>)> = vec![
        (0, Just(J::raw("null")).boxed()),
        (1, any::<bool>().prop_map(|b| J::Raw(b.to_string())).boxed()),
        (2, odd_number().boxed()),
        (3, hostile_text().prop_map(J::Str).boxed()),
        (
            4,
            prop::collection::vec(any_json(), 0..3)
                .prop_map(J::Arr)
                .boxed(),
        ),
        (
            5,
            prop::collection::vec((".{0,8}", any_json()), 0..3)
                .prop_map(J::Obj)
                .boxed(),
        ),
    ];
    let others: Vec<BoxedStrategy<J>> = all
        .into_iter()
        .filter(|(k, _)| *k != kind)
        .map(|(_, s)| s)
        .collect();
    prop::strategy::Union::new(others).boxed()
}
