//! The requests: every route with every method first, then random ones over
//! the contract's routes, and paths and ids beside them.

use proptest::prelude::*;

use testkit::hostile_http;

use super::{
    ACCOUNT_EMAIL, ACCOUNT_PASSWORD, Plan, REQUESTS, SEEDED_CUSTOMERS,
    bodies::{change_body, customer_body, sign_in, sign_in_body, valid_customer},
    fixture::Slot,
};
use hostile_http::{J, Part};

/// Every request: the matrix first, then random ones, from one fixed seed.
pub(super) fn generate() -> Vec<Plan> {
    let tokens = vec![
        Slot::AccountToken,
        Slot::AccountToken,
        Slot::OrderToken,
        Slot::ExpiredToken,
    ];
    hostile_http::generate(
        matrix(),
        hostile_http::dressed(any_request(), tokens),
        REQUESTS,
    )
}

/// Every route of the contract with every method, as the admin and
/// anonymous, each with the body its route takes.
fn matrix() -> Vec<Plan> {
    let customers = || Part::Lit("api/v1/customers");
    let dead_letters = || Part::Lit("api/v1/admin/dead-letters");
    let routes: [(Vec<Part<Slot>>, Option<J>); 10] = [
        (vec![customers()], Some(valid_customer(0, false, false))),
        (
            vec![customers(), Part::Slot(Slot::Victim(0))],
            Some(J::obj([("name", J::str("Renamed"))])),
        ),
        (
            vec![customers(), Part::Slot(Slot::Account), Part::Lit("orders")],
            None,
        ),
        (
            vec![Part::Lit("api/v1/sessions")],
            Some(sign_in(ACCOUNT_EMAIL, ACCOUNT_PASSWORD)),
        ),
        (vec![dead_letters()], None),
        (vec![dead_letters(), Part::Lit("replay")], None),
        (
            vec![
                dead_letters(),
                Part::Lit("no-such-message"),
                Part::Lit("replay"),
            ],
            None,
        ),
        (vec![Part::Lit("healthz")], None),
        (vec![Part::Lit("readyz")], None),
        (vec![Part::Lit("metrics")], None),
    ];
    hostile_http::every_method(&routes)
}

fn any_request() -> impl Strategy<Value = Plan> {
    let customers = || Part::Lit("api/v1/customers");
    let list = hostile_http::query(
        &["q", "email", "page", "per_page"],
        &[
            "ada",
            "ada@example.com",
            " ADA@Example.com ",
            "Eve <eve@example.com>",
            "lovelace",
        ],
    )
    .prop_map(move |query| Plan::get(vec![customers()], query));
    let create =
        customer_body().prop_map(move |body| Plan::call("POST", vec![customers()]).with_body(body));
    // Removing the account would leave its token nothing to open.
    let removable = prop_oneof![
        2 => (0_u8..3).prop_map(|n| Part::Slot(Slot::Victim(n))),
        1 => (0..SEEDED_CUSTOMERS).prop_map(|n| Part::Slot(Slot::Seeded(n))),
        3 => garbage_id(),
    ];
    let item = (
        prop::sample::select(vec!["GET", "PATCH", "PATCH", "DELETE"]),
        customer_id(),
        removable,
        change_body(),
    )
        .prop_map(move |(method, id, removable, body)| {
            let id = if method == "DELETE" { removable } else { id };
            let plan = Plan::call(method, vec![customers(), id]);
            if method == "PATCH" {
                plan.with_body(body)
            } else {
                plan
            }
        });
    let history = (
        customer_id(),
        hostile_http::query(&["page", "per_page"], &[]),
    )
        .prop_map(move |(id, query)| Plan::get(vec![customers(), id, Part::Lit("orders")], query));
    let sessions = sign_in_body()
        .prop_map(|body| Plan::call("POST", vec![Part::Lit("api/v1/sessions")]).with_body(body));
    let misc = hostile_http::misc_plan(&[]);
    let wandering = hostile_http::wandering_plan(wandering_path());
    prop_oneof![
        14 => list,
        22 => create,
        26 => item,
        8 => history,
        12 => sessions,
        4 => misc,
        8 => wandering,
    ]
}

/// Paths beside, below and around the routes.
fn wandering_path() -> impl Strategy<Value = Vec<Part<Slot>>> {
    let known = prop::sample::select(vec![
        "api/v1/customers",
        "api/v1/sessions",
        "api/v1/orders",
        "api/v1/products",
        "api/v2/customers",
        "API/V1/CUSTOMERS",
        "api/v1",
        "api",
        "healthz/x",
        "api/v1/customers/",
        "api/v1//customers",
        "api/v1/sessions/x",
    ]);
    (
        known,
        prop::collection::vec(customer_id(), 0..3),
        prop::option::of(prop::sample::select(vec!["orders", "orders/x", "sessions"])),
    )
        .prop_map(|(known, ids, tail)| {
            let mut path = vec![Part::Lit(known)];
            path.extend(ids);
            path.extend(tail.map(Part::Lit));
            path
        })
}

fn garbage_id() -> impl Strategy<Value = Part<Slot>> {
    hostile_http::garbage_segment().prop_map(Part::Raw)
}

fn customer_id() -> impl Strategy<Value = Part<Slot>> {
    prop_oneof![
        2 => (0..SEEDED_CUSTOMERS).prop_map(|n| Part::Slot(Slot::Seeded(n))),
        3 => Just(Part::Slot(Slot::Account)),
        2 => (0_u8..3).prop_map(|n| Part::Slot(Slot::Victim(n))),
        6 => garbage_id(),
    ]
}
