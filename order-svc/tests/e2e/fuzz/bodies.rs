//! The bodies the requests carry: valid products and checkouts, and hostile
//! variations of them.

use proptest::{prelude::*, sample::Index};
use uuid::Uuid;

use testkit::hostile_http;

use super::{ACCOUNT_EMAIL, SEEDED_PRODUCTS, fixture::seeded_product};
use hostile_http::{Body, J};

pub(super) fn valid_product(n: u32) -> J {
    J::obj([
        ("sku", J::Str(format!("FUZZ-{n}"))),
        ("name", J::str("Fuzzed Mug")),
        ("description", J::str("Made of hostile input.")),
        ("price", J::str("12.50")),
        ("currency", J::str("EUR")),
        ("stock", J::raw("5")),
        ("category", J::str("Fuzz")),
        ("image_url", J::str("/images/mug.svg")),
    ])
}

/// A product (`create`) or some of its fields (a patch), hostile.
pub(super) fn product_body(create: bool) -> BoxedStrategy<Body> {
    let valid = (0_u32..400, any::<Index>(), 1_usize..8).prop_map(move |(n, at, keep)| {
        let full = valid_product(n);
        let J::Obj(fields) = full else { return full };
        if create {
            return J::Obj(fields);
        }
        let start = at.index(fields.len());
        J::Obj(fields.into_iter().cycle().skip(start).take(keep).collect())
    });
    hostile_http::mutated(valid)
}

const EMAILS: [&str; 10] = [
    "fuzz1@example.com",
    "fuzz2@example.com",
    " FUZZ3@Example.COM ",
    "fuzz4@example.com",
    "ada@example.com",
    "blocked@example.com",
    "lowcredit@example.com",
    ACCOUNT_EMAIL,
    "fuzz5@example.com",
    "fuzz6@example.com",
];

pub(super) fn valid_checkout(email: usize, first: u128, lines: usize) -> J {
    let items = (0..lines as u128)
        .map(|line| {
            J::obj([
                (
                    "product_id",
                    J::Str(seeded_product(first + line).to_string()),
                ),
                ("quantity", J::Raw((1 + (first + line) % 3).to_string())),
            ])
        })
        .collect();
    J::obj([
        (
            "customer",
            J::obj([
                ("email", J::str(EMAILS[email % EMAILS.len()])),
                ("name", J::str("Fuzz Shopper")),
            ]),
        ),
        ("items", J::Arr(items)),
    ])
}

/// A checkout, hostile; or one of too many lines, or of one product twice.
pub(super) fn checkout_body() -> BoxedStrategy<Body> {
    let valid = (0_usize..EMAILS.len(), 0..SEEDED_PRODUCTS, 1_usize..4)
        .prop_map(|(email, first, lines)| valid_checkout(email, first, lines));
    let many_lines = (40_usize..70, any::<bool>()).prop_map(|(lines, seeded)| {
        let items = (0..lines as u128)
            .map(|line| {
                let id = if seeded {
                    seeded_product(line)
                } else {
                    Uuid::from_u128(line)
                };
                J::obj([
                    ("product_id", J::Str(id.to_string())),
                    ("quantity", J::raw("1")),
                ])
            })
            .collect();
        Body::Json(J::obj([
            (
                "customer",
                J::obj([
                    ("email", J::str("fuzz1@example.com")),
                    ("name", J::str("Many")),
                ]),
            ),
            ("items", J::Arr(items)),
        ]))
    });
    prop_oneof![
        // Enough valid checkouts that sagas run beside the hostile requests.
        4 => valid.clone().prop_map(Body::Json),
        10 => hostile_http::mutated(valid),
        1 => many_lines,
    ]
    .boxed()
}
