//! A request's body, and the hostile variations of a valid one.

use proptest::{prelude::*, sample::Index};

use super::{J, any_json, hostile_text, json::another_type, odd_number};

/// A request's body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// A JSON body as a hostile client writes it.
    Json(J),
    /// The JSON text cut short.
    Truncated(J, Index),
    /// These bytes as they are (invalid UTF-8, not JSON).
    Bytes(Vec<u8>),
    /// Nested arrays, `depth` deep, around nothing or a valid body.
    Nested(usize, Option<J>),
    /// A valid body padded past the 64 KiB limit.
    Oversized(J, usize),
}

impl Body {
    /// The bytes sent, if any.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Body::None => None,
            Body::Json(json) => Some(json.text().into_bytes()),
            Body::Truncated(json, at) => {
                let text = json.text().into_bytes();
                Some(text[..at.index(text.len().max(1)).min(text.len())].to_vec())
            }
            Body::Bytes(bytes) => Some(bytes.clone()),
            Body::Nested(depth, inner) => {
                let core = inner.as_ref().map(J::text).unwrap_or_default();
                Some(format!("{}{core}{}", "[".repeat(*depth), "]".repeat(*depth)).into_bytes())
            }
            Body::Oversized(json, pad) => {
                let mut fields = match json {
                    J::Obj(fields) => fields.clone(),
                    other => vec![("body".to_owned(), other.clone())],
                };
                fields.push(("pad".to_owned(), J::Str("x".repeat(64 * 1024 + pad))));
                Some(J::Obj(fields).text().into_bytes())
            }
        }
    }
}

/// Hostile variations of a valid body: as is, a value of another type, a
/// hostile string, a field missing, added or given twice, an odd number,
/// cut short, nested past any parser's depth, past the size limit, with a
/// BOM, twice, with trailing garbage, a raw NUL or an invalid UTF-8 byte.
pub fn mutated(valid: impl Strategy<Value = J> + Clone + 'static) -> BoxedStrategy<Body> {
    let retyped = valid
        .clone()
        .prop_flat_map(|json| {
            let slots = json.slots();
            (Just(json), prop::sample::select(slots)).prop_flat_map(|(json, slot)| {
                let mut probe = json.clone();
                let original = probe.at_mut(&slot).cloned().unwrap_or(J::raw("null"));
                (Just(json), Just(slot), another_type(&original))
            })
        })
        .prop_map(|(mut json, slot, value)| {
            if let Some(at) = json.at_mut(&slot) {
                *at = value;
            }
            Body::Json(json)
        });
    let replaced = |value: BoxedStrategy<J>| {
        (valid.clone(), any::<Index>(), value).prop_map(|(mut json, at, value)| {
            let slots = json.slots();
            if !slots.is_empty() {
                let slot = at.get(&slots).clone();
                if let Some(place) = json.at_mut(&slot) {
                    *place = value;
                }
            }
            Body::Json(json)
        })
    };
    let hostile_field = replaced(hostile_text().prop_map(J::Str).boxed());
    let odd_numbers = replaced(odd_number().boxed());
    let removed = (valid.clone(), any::<Index>()).prop_map(|(mut json, at)| {
        if let J::Obj(fields) = &mut json
            && !fields.is_empty()
        {
            fields.remove(at.index(fields.len()));
        }
        Body::Json(json)
    });
    let extra = (valid.clone(), ".{0,12}", any_json()).prop_map(|(mut json, key, value)| {
        if let J::Obj(fields) = &mut json {
            fields.push((key, value));
        }
        Body::Json(json)
    });
    let duplicated = (valid.clone(), any::<Index>(), any_json(), any::<bool>()).prop_map(
        |(mut json, at, value, first)| {
            if let J::Obj(fields) = &mut json
                && !fields.is_empty()
            {
                let key = fields[at.index(fields.len())].0.clone();
                let position = if first { 0 } else { fields.len() };
                fields.insert(position, (key, value));
            }
            Body::Json(json)
        },
    );
    let truncated =
        (valid.clone(), any::<Index>()).prop_map(|(json, at)| Body::Truncated(json, at));
    let nested = (
        prop_oneof![100_usize..200, 1_000_usize..50_000],
        prop::option::of(valid.clone()),
    )
        .prop_map(|(depth, inner)| Body::Nested(depth, inner));
    let oversized =
        (valid.clone(), 1_usize..4096).prop_map(|(json, pad)| Body::Oversized(json, pad));
    let framing = (valid.clone(), 0_usize..5).prop_map(|(json, how)| {
        let text = json.text();
        Body::Bytes(match how {
            0 => format!("\u{feff}{text}").into_bytes(),
            1 => format!("{text}{text}").into_bytes(),
            2 => format!("{text}x").into_bytes(),
            3 => text.replacen('"', "\"\u{0}", 1).into_bytes(),
            _ => {
                let mut bytes = text.into_bytes();
                let at = bytes.len() / 2;
                bytes.insert(at, 0xff);
                bytes
            }
        })
    });
    prop_oneof![
        6 => valid.prop_map(Body::Json),
        6 => retyped,
        4 => hostile_field,
        2 => removed,
        2 => extra,
        2 => duplicated,
        2 => odd_numbers,
        2 => truncated,
        2 => any_body(),
        1 => nested,
        1 => oversized,
        1 => framing,
    ]
    .boxed()
}

/// A body that is anything but a valid one.
pub fn any_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Body::Bytes),
        2 => any_json().prop_map(Body::Json),
        1 => prop::sample::select(vec!["", "null", "[]", "{}", "\"x\"", "42", "{", "}", "{\"a\":}", "\u{0}"])
            .prop_map(|t| Body::Bytes(t.as_bytes().to_vec())),
    ]
}
