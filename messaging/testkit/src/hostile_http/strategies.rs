//! The hostile pieces requests are made of: methods, strings, path segments,
//! query strings, callers, extra headers and content types.

use std::fmt;

use proptest::{prelude::*, sample::Index};
use uuid::Uuid;

use super::{Auth, encode};

/// Any method, the contract's and others.
pub fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FUZZ",
    ])
    .prop_map(str::to_owned)
}

/// Strings an attacker or a confused client sends.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
        1 => (".", 201_usize..3000).prop_map(|(c, n)| c.repeat(n)),
        3 => prop::sample::select(vec![
            "", " ", "\u{0}", "null", "-1", "+5", "05", "1e3", "1_000", "12.345", "eur", "EUR ",
            "javascript:alert(1)", "//evil.example/x.png", "https://exa mple.com/x.png",
            "Eve <eve@example.com>", "\"a\tb\"@example.com", "a@b@example.com", "a@localhost",
            "'; DROP TABLE customers; --", "%00", "%", "_", "\\", "🦀", "\u{202e}", "\u{feff}x",
            "Ａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "İ@EXAMPLE.COM", "ß@example.com", "a@[1.2.3.4]",
            "active", "blocked", "Blocked", "1000000.01", "a passphrase long enough",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A UUID written otherwise than `8-4-4-4-12` in lower case.
pub fn uuid_form(id: Uuid, form: usize) -> String {
    match form {
        0 => id.hyphenated().to_string().to_uppercase(),
        1 => id.simple().to_string(),
        2 => format!("%7B{id}%7D"),
        3 => format!("urn:uuid:{id}"),
        _ => format!("{id}0"),
    }
}

/// A path segment that is no id of anything: a random UUID in any form,
/// encoded control characters, overlong, garbage.
pub fn garbage_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<u128>().prop_map(|id| Uuid::from_u128(id).to_string()),
        2 => (any::<u128>(), 0_usize..5).prop_map(|(id, form)| uuid_form(Uuid::from_u128(id), form)),
        2 => hostile_text().prop_map(|text| encode(text.as_bytes())),
        2 => prop::sample::select(vec![
            "%00", "%2e%2e", "..%2f..%2f", "null", "-1", "0", "%20", "a%00b", "%ff", "%c0%ae",
            "%", "%zz", "%0", "%u0000", "%E2%80%AE", "%EF%BB%BF",
        ])
        .prop_map(str::to_owned),
        1 => (1_000_usize..6_000).prop_map(|n| "a".repeat(n)),
    ]
}

/// A query string over `keys` (and unknown ones), its values hostile or
/// `values`, encoded properly, not at all, or wrongly.
pub fn query(
    keys: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        4 => prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
        1 => hostile_text(),
    ];
    let value = prop_oneof![
        3 => prop::sample::select(vec![
            "0", "1", "2", "-1", "100", "101", "1000000", "1000001", "4294967296",
            "99999999999999999999", "+5", "05", " 5", "1e3", "1.5", "NaN", "", "abc",
            "%", "_", "\\", "%_\\", "a%",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select([values, &["x"]].concat()).prop_map(str::to_owned),
        3 => hostile_text(),
        1 => (any::<u128>(), 0_usize..5).prop_map(|(id, form)| uuid_form(Uuid::from_u128(id), form)),
    ];
    let pair = (key, value, 0_usize..4).prop_map(|(key, value, how)| match how {
        // As a browser would encode it.
        0 | 1 => format!("{}={}", encode(key.as_bytes()), encode(value.as_bytes())),
        // Raw: the client encodes only what it must.
        2 => format!("{}={}", key.replace('#', "%23"), value.replace('#', "%23")),
        // A broken escape at the end.
        _ => format!(
            "{}={}%{}",
            encode(key.as_bytes()),
            encode(value.as_bytes()),
            value.len() % 10
        ),
    });
    prop_oneof![
        1 => Just(String::new()),
        1 => Just("?".to_owned()),
        1 => Just("?&&=&==".to_owned()),
        8 => prop::collection::vec(pair, 1..5).prop_map(|pairs| format!("?{}", pairs.join("&"))),
    ]
}

/// Who calls: mostly the admin or anonymous, sometimes the holder of one
/// of `tokens` (intact or with a byte changed), often garbage.
pub fn auth<S: Clone + fmt::Debug + 'static>(tokens: Vec<S>) -> impl Strategy<Value = Auth<S>> {
    let garbage = prop_oneof![
        "[ -~]{0,80}".prop_map(|t| format!("Bearer {t}").into_bytes()),
        "[ -~]{0,80}".prop_map(|t| format!("bearer {t}").into_bytes()),
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,43}"
            .prop_map(|t| format!("Bearer {t}").into_bytes()),
        prop::collection::vec(
            prop_oneof![0x20_u8..0x7f, 0x80_u8..=0xff, Just(b'\t')],
            0..120
        ),
        (1_000_usize..6_000).prop_map(|n| format!("Bearer {}", "a".repeat(n)).into_bytes()),
        prop::sample::select(vec![
            "",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "Bearer  test-admin-token ",
            "Bearer test-admin-tokeN",
            "Bearer test-admin-token2",
            "BEARER test-admin-token",
            "Bearer\ttest-admin-token",
            "Token test-admin-token",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    let token = prop::sample::select(tokens);
    prop_oneof![
        35 => Just(Auth::Admin),
        30 => Just(Auth::Anonymous),
        12 => token.clone().prop_map(Auth::Bearer),
        4 => (token, any::<Index>(), 0x21_u8..0x7f).prop_map(|(t, at, byte)| Auth::Mangled(t, at, byte)),
        19 => garbage.prop_map(Auth::Header),
    ]
}

/// Now and then a header with garbage: `X-Request-Id`, `Origin` (a
/// cross-origin caller), `X-Forwarded-For`, `Accept`.
pub fn extra_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let header = prop_oneof![
        3 => (
            Just("x-request-id"),
            prop::collection::vec(prop_oneof![0x20_u8..0x7f, 0x80_u8..=0xff], 0..200)
        ),
        1 => (
            Just("origin"),
            prop_oneof![
                Just(b"https://evil.example".to_vec()),
                Just(b"null".to_vec()),
                "[ -~]{0,40}".prop_map(String::into_bytes),
            ]
        ),
        2 => (Just("x-forwarded-for"), "[ -~]{0,60}".prop_map(String::into_bytes)),
        2 => (Just("accept"), "[ -~]{0,40}".prop_map(String::into_bytes)),
    ]
    .prop_map(|(name, value)| (name.to_owned(), value));
    prop_oneof![
        6 => Just(Vec::new()),
        1 => prop::collection::vec(header, 1..3),
    ]
}

/// Mostly `application/json`; sometimes none, another type, or garbage.
pub fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        12 => Just(Some(b"application/json".to_vec())),
        1 => Just(None),
        1 => prop::sample::select(vec![
            "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
            "multipart/form-data; boundary=x", "application/xml", "*/*",
        ])
        .prop_map(|t| Some(t.as_bytes().to_vec())),
        1 => "[ -~]{0,30}".prop_map(|t| Some(t.into_bytes())),
    ]
}
