//! The bodies the requests carry: sign-ups, changes and sign-ins, valid and
//! hostile.

use proptest::{prelude::*, sample::Index};

use testkit::hostile_http;

use super::{ACCOUNT_EMAIL, ACCOUNT_PASSWORD};
use hostile_http::{Body, J};

pub(super) fn valid_customer(n: u32, credit_limit: bool, password: bool) -> J {
    let mut fields = vec![
        ("email".to_owned(), J::Str(format!("Fuzz-{n}@Example.com "))),
        ("name".to_owned(), J::str("Fuzzed Customer")),
    ];
    if credit_limit {
        fields.push(("credit_limit".to_owned(), J::str("2500.00")));
    }
    // Only now and then: each password costs an argon2 hash.
    if password {
        fields.push(("password".to_owned(), J::str("a passphrase long enough")));
    }
    J::Obj(fields)
}

/// A sign-up, hostile: new emails, taken ones, with a credit limit (the
/// admin's to set) and a password now and then.
pub(super) fn customer_body() -> BoxedStrategy<Body> {
    let valid = (
        0_u32..300,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.08),
    )
        .prop_map(|(n, credit_limit, password)| valid_customer(n, credit_limit, password));
    let taken = prop::sample::select(vec![
        ACCOUNT_EMAIL,
        "ADA@example.com",
        "fuzz-victim-1@example.com",
    ])
    .prop_map(|email| Body::Json(J::obj([("email", J::str(email)), ("name", J::str("Twin"))])));
    prop_oneof![
        3 => valid.clone().prop_map(Body::Json),
        10 => hostile_http::mutated(valid),
        1 => taken,
    ]
    .boxed()
}

/// A change: some of `name`, `status`, `credit_limit`, now and then a
/// `password`, hostile.
pub(super) fn change_body() -> BoxedStrategy<Body> {
    let fields = [
        ("name", J::str("Renamed Customer")),
        ("status", J::str("blocked")),
        ("credit_limit", J::str("1200.00")),
        ("status", J::str("active")),
        ("name", J::str("Another Name")),
    ];
    let valid = (any::<Index>(), 1_usize..4, prop::bool::weighted(0.05)).prop_map(
        move |(at, keep, password)| {
            let start = at.index(fields.len());
            let mut chosen: Vec<(String, J)> = Vec::new();
            for (key, value) in fields.iter().cycle().skip(start).take(keep) {
                if !chosen.iter().any(|(k, _)| k == key) {
                    chosen.push(((*key).to_owned(), value.clone()));
                }
            }
            if password {
                chosen.push(("password".to_owned(), J::str("another long passphrase")));
            }
            J::Obj(chosen)
        },
    );
    prop_oneof![
        2 => valid.clone().prop_map(Body::Json),
        8 => hostile_http::mutated(valid),
    ]
    .boxed()
}

pub(super) fn sign_in(email: &str, password: &str) -> J {
    J::obj([("email", J::str(email)), ("password", J::str(password))])
}

/// A sign-in, hostile: right and wrong passwords, known and unknown emails.
pub(super) fn sign_in_body() -> BoxedStrategy<Body> {
    let valid = (
        prop::sample::select(vec![
            ACCOUNT_EMAIL,
            "FUZZ-ACCOUNT@example.com",
            "ada@example.com",
            "nobody@example.com",
        ]),
        prop::sample::select(vec![ACCOUNT_PASSWORD, "a wrong passphrase", ""]),
    )
        .prop_map(|(email, password)| sign_in(email, password));
    hostile_http::mutated(valid)
}
