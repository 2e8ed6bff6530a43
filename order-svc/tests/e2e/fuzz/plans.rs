//! The requests: every route with every method first, then random ones over
//! the contract's routes, and paths and ids beside them.

use proptest::prelude::*;

use testkit::hostile_http;

use super::{
    Plan, REQUESTS, SEEDED_PRODUCTS,
    bodies::{checkout_body, product_body, valid_checkout, valid_product},
    fixture::Slot,
};
use hostile_http::{Body, J, Part};

/// Every request: the matrix first, then random ones, from one fixed seed.
pub(super) fn generate() -> Vec<Plan> {
    let tokens = vec![Slot::OrderToken, Slot::CustomerToken];
    hostile_http::generate(
        matrix(),
        hostile_http::dressed(any_request(), tokens),
        REQUESTS,
    )
}

/// Every route of the contract (and the UI's) with every method, as the
/// admin and anonymous, each with the body its route takes.
fn matrix() -> Vec<Plan> {
    let saga = |action| {
        // An order's id is no saga's: the repairs find nothing to do.
        vec![
            Part::Lit("api/v1/admin/sagas"),
            Part::Slot(Slot::Order),
            Part::Lit(action),
        ]
    };
    let routes: [(Vec<Part<Slot>>, Option<J>); 14] = [
        (vec![Part::Lit("api/v1/products")], Some(valid_product(0))),
        (
            vec![Part::Lit("api/v1/products"), Part::Slot(Slot::Product)],
            Some(J::obj([("stock", J::raw("900"))])),
        ),
        (vec![Part::Lit("api/v1/categories")], None),
        (
            vec![Part::Lit("api/v1/orders")],
            Some(valid_checkout(1, 0, 1)),
        ),
        (
            vec![Part::Lit("api/v1/orders"), Part::Slot(Slot::Order)],
            None,
        ),
        (
            vec![
                Part::Lit("api/v1/orders"),
                Part::Slot(Slot::Order),
                Part::Lit("cancel"),
            ],
            None,
        ),
        (vec![Part::Lit("api/v1/admin/sagas/stuck")], None),
        (saga("resume"), None),
        (saga("compensate"), None),
        (vec![Part::Lit("healthz")], None),
        (vec![Part::Lit("readyz")], None),
        (vec![Part::Lit("metrics")], None),
        (vec![Part::Lit("ui-config.json")], None),
        (vec![], None),
    ];
    hostile_http::every_method(&routes)
}

fn any_request() -> impl Strategy<Value = Plan> {
    let products = Part::Lit("api/v1/products");
    let orders = Part::Lit("api/v1/orders");
    let product_list = hostile_http::query(
        &["q", "category", "page", "per_page"],
        &["mug", "Kitchen", "Books"],
    )
    .prop_map(move |query| Plan::get(vec![products.clone()], query));
    let categories = hostile_http::query(&["page"], &[])
        .prop_map(|query| Plan::get(vec![Part::Lit("api/v1/categories")], query));
    // Retiring the seeded catalogue would leave checkouts nothing to buy.
    let retirable = prop_oneof![1 => Just(Part::Slot(Slot::Product)), 3 => garbage_id()];
    let product_item = (
        prop::sample::select(vec!["GET", "PATCH", "DELETE"]),
        product_id(),
        retirable,
        product_body(false),
    )
        .prop_map(|(method, id, retirable, body)| {
            let id = if method == "DELETE" { retirable } else { id };
            let plan = Plan::call(method, vec![Part::Lit("api/v1/products"), id]);
            if method == "PATCH" {
                plan.with_body(body)
            } else {
                plan
            }
        });
    let product_create = product_body(true)
        .prop_map(|body| Plan::call("POST", vec![Part::Lit("api/v1/products")]).with_body(body));
    let checkout = (checkout_body(), idempotency_key()).prop_map(|(body, key)| {
        let mut plan = Plan::call("POST", vec![Part::Lit("api/v1/orders")]).with_body(body);
        plan.headers
            .extend(key.map(|key| ("idempotency-key".to_owned(), key)));
        plan
    });
    let order_list = hostile_http::query(
        &["customer_id", "status", "page", "per_page"],
        &[
            "pending",
            "confirmed",
            "rejected",
            "cancelled",
            "CONFIRMED",
            "0193a000-0000-7000-8000-000000000001",
        ],
    )
    .prop_map(move |query| Plan::get(vec![orders.clone()], query));
    let order_item =
        order_id().prop_map(|id| Plan::get(vec![Part::Lit("api/v1/orders"), id], String::new()));
    let cancel = (
        order_id(),
        prop_oneof![3 => Just(Body::None), 1 => hostile_http::any_body()],
    )
        .prop_map(|(id, body)| {
            Plan::call(
                "POST",
                vec![Part::Lit("api/v1/orders"), id, Part::Lit("cancel")],
            )
            .with_body(body)
        });
    let misc = hostile_http::misc_plan(&["ui-config.json"]);
    let wandering = hostile_http::wandering_plan(wandering_path());
    prop_oneof![
        14 => product_list,
        2 => categories,
        14 => product_item,
        12 => product_create,
        24 => checkout,
        8 => order_list,
        7 => order_item,
        7 => cancel,
        4 => misc,
        8 => wandering,
    ]
}

/// Paths beside, below and around the routes.
fn wandering_path() -> impl Strategy<Value = Vec<Part<Slot>>> {
    let known = prop::sample::select(vec![
        "api/v1/products",
        "api/v1/orders",
        "api/v1/categories",
        "api/v1/customers",
        "api/v2/products",
        "API/V1/PRODUCTS",
        "api/v1",
        "api",
        "healthz/x",
        "api/v1/products/",
        "api/v1//products",
        "api/v1/orders/cancel",
    ]);
    (known, prop::collection::vec(product_id(), 0..3)).prop_map(|(known, tail)| {
        let mut path = vec![Part::Lit(known)];
        path.extend(tail);
        path
    })
}

fn garbage_id() -> impl Strategy<Value = Part<Slot>> {
    hostile_http::garbage_segment().prop_map(Part::Raw)
}

fn product_id() -> impl Strategy<Value = Part<Slot>> {
    prop_oneof![
        3 => (0..SEEDED_PRODUCTS).prop_map(|n| Part::Slot(Slot::Seeded(n))),
        3 => Just(Part::Slot(Slot::Product)),
        6 => garbage_id(),
    ]
}

fn order_id() -> impl Strategy<Value = Part<Slot>> {
    prop_oneof![
        4 => Just(Part::Slot(Slot::Order)),
        1 => Just(Part::Slot(Slot::Customer)),
        6 => garbage_id(),
    ]
}

fn idempotency_key() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        5 => Just(None),
        3 => (1_u8..5).prop_map(|n| Some(format!("fuzz-key-{n}").into_bytes())),
        1 => "[ -~]{0,40}".prop_map(|k| Some(k.into_bytes())),
        1 => (201_usize..3000).prop_map(|n| Some("k".repeat(n).into_bytes())),
        1 => prop::collection::vec(prop_oneof![0x20_u8..0x7f, 0x80_u8..=0xff, Just(b'\t')], 0..40)
            .prop_map(Some),
    ]
}
