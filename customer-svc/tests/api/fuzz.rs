//! Hostile HTTP input against the real customer-svc: [`REQUESTS`] requests,
//! generated up front by proptest from a fixed seed (the same requests every
//! run), over every route of the contract: methods × paths (valid ids,
//! random UUIDs, garbage, encoded control characters, overlong segments),
//! query strings, bodies (valid ones with a field of another type, random
//! bytes, truncated JSON, deep nesting, huge numbers, duplicate keys, wrong
//! content types) and headers (garbage `Authorization`, `Origin`), as the
//! admin, a signed-in customer (and an order's token, an expired token) and
//! anonymous. Whatever comes: no 5xx, every 4xx in the contract's error
//! shape, and no row written that no successful answer accounts for.
//! `FUZZ_ROUTES=1` prints what each route answered.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use edge::tokens::AccessTokens;
use proptest::{prelude::*, sample::Index};
use reqwest::Method;
use uuid::Uuid;

use testkit::hostile_http;

use crate::helpers::*;
use hostile_http::{Answer, Body, J, Part, Sent};

/// Requests sent: a matrix of every route × method × caller, then random ones.
const REQUESTS: usize = 2_000;
/// The account whose token the shopper's requests carry.
const ACCOUNT_EMAIL: &str = "fuzz-account@example.com";
const ACCOUNT_PASSWORD: &str = "a passphrase long enough";
/// The seeded customers (`migrations/customers/*_seed_demo_customers.sql`).
const SEEDED_CUSTOMERS: u128 = 5;

type Plan = hostile_http::Plan<Slot>;

/// What a request names that exists only once the service runs.
#[derive(Debug, Clone)]
enum Slot {
    /// A seeded customer.
    Seeded(u128),
    /// The signed-in account.
    Account,
    /// Customers the requests may change and remove.
    Victim(u8),
    AccountToken,
    /// A token for an order (of order-svc): valid, but for no customer.
    OrderToken,
    /// The account's token, expired.
    ExpiredToken,
}

fn seeded_customer(index: u128) -> Uuid {
    Uuid::from_u128(0x0193a000_0000_7000_8000_000000000001 + (index % SEEDED_CUSTOMERS))
}

#[tokio::test]
async fn hostile_requests_get_a_4xx_in_the_error_shape_and_write_nothing() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let fixture = Fixture::create(&app).await;

    let plans = generate();
    let client = hostile_http::client();
    let fill = |slot: &Slot| fixture.fill(slot);
    let requests: Vec<Sent> = plans
        .iter()
        .enumerate()
        .map(|(index, plan)| plan.render(index, &app.base, ADMIN_TOKEN, &fill, &client))
        .collect();

    let database = sqlx::PgPool::connect(&app.database_url)
        .await
        .expect("the database");
    let before = Snapshot::take(&database).await;
    let answers = hostile_http::send_all(&client, &requests).await;
    let after = Snapshot::take(&database).await;
    database.close().await;

    let mut problems: Vec<String> = requests
        .iter()
        .zip(&answers)
        .filter_map(|(sent, answer)| answer.problem().map(|p| format!("{p}\n{sent}")))
        .collect();
    problems.extend(Effects::of(&requests, &answers).unexplained(&before, &after, &requests));
    hostile_http::print_routes(&requests, &answers);
    eprintln!(
        "fuzz: {} requests tried against customer-svc in {:.1?} (statuses {:?})",
        answers.len(),
        started.elapsed(),
        hostile_http::statuses(&answers)
    );
    assert_eq!(answers.len(), REQUESTS);
    hostile_http::assert_no_problems("customer-svc", REQUESTS, &problems);
    app.stop().await;
}

#[test]
fn the_requests_are_the_same_every_run() {
    let first: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    let again: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(first.len(), REQUESTS);
    assert!(first == again, "the generator is not deterministic");
}

// ------------------------------------------------------------ the fixture

/// What the requests refer to that only exists once the service runs.
struct Fixture {
    account: Uuid,
    account_token: String,
    victims: Vec<Uuid>,
    order_token: String,
    expired_token: String,
}

impl Fixture {
    async fn create(app: &TestApp) -> Self {
        let (account, account_token) = app.sign_up(ACCOUNT_EMAIL, ACCOUNT_PASSWORD).await;
        let mut victims = Vec::new();
        for n in 0..3 {
            let victim = app
                .create_customer(&format!("fuzz-victim-{n}@example.com"), "Victim")
                .await;
            victims.push(victim["id"].as_str().expect("id").parse().expect("a uuid"));
        }
        let account: Uuid = account.parse().expect("a uuid");
        let tokens = AccessTokens::new(TOKEN_SECRET.as_bytes(), Duration::from_secs(3600));
        Self {
            account,
            account_token,
            victims,
            order_token: tokens.for_order(Uuid::new_v4()).expect("a token").token,
            expired_token: tokens.expired_for_customer(
                account,
                ACCOUNT_EMAIL,
                Duration::from_secs(60),
            ),
        }
    }

    fn fill(&self, slot: &Slot) -> String {
        match slot {
            Slot::Seeded(n) => seeded_customer(*n).to_string(),
            Slot::Account => self.account.to_string(),
            Slot::Victim(n) => self.victims[usize::from(*n) % self.victims.len()].to_string(),
            Slot::AccountToken => self.account_token.clone(),
            Slot::OrderToken => self.order_token.clone(),
            Slot::ExpiredToken => self.expired_token.clone(),
        }
    }
}

// ------------------------------------------------------------ the requests

/// Every request: the matrix first, then random ones, from one fixed seed.
fn generate() -> Vec<Plan> {
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
    let routes: [(Vec<Part<Slot>>, Option<J>); 7] = [
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

fn valid_customer(n: u32, credit_limit: bool, password: bool) -> J {
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
fn customer_body() -> BoxedStrategy<Body> {
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
fn change_body() -> BoxedStrategy<Body> {
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

fn sign_in(email: &str, password: &str) -> J {
    J::obj([("email", J::str(email)), ("password", J::str(password))])
}

/// A sign-in, hostile: right and wrong passwords, known and unknown emails.
fn sign_in_body() -> BoxedStrategy<Body> {
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

// ------------------------------------------------------------ what was written

/// Every customer as JSON text, by id; and how many rows the tables that
/// only messages write hold.
struct Snapshot {
    customers: HashMap<String, String>,
    written_by_messages: i64,
}

impl Snapshot {
    async fn take(database: &sqlx::PgPool) -> Self {
        let customers = sqlx::query_as::<_, (String, String)>(
            "SELECT id::text, to_jsonb(c)::text FROM customers c",
        )
        .fetch_all(database)
        .await
        .expect("a snapshot")
        .into_iter()
        .collect();
        let written_by_messages = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM credit_reservations)
                  + (SELECT count(*) FROM order_history)
                  + (SELECT count(*) FROM processed_messages)",
        )
        .fetch_one(database)
        .await
        .expect("counts");
        Self {
            customers,
            written_by_messages,
        }
    }
}

/// What the successful answers say was written.
#[derive(Default)]
struct Effects {
    created: HashSet<String>,
    changed: HashSet<String>,
    removed: HashSet<String>,
}

impl Effects {
    fn of(requests: &[Sent], answers: &[Answer]) -> Self {
        let mut effects = Effects::default();
        for (sent, answer) in requests.iter().zip(answers) {
            if !answer.is_success() || sent.method == Method::GET {
                continue;
            }
            let segments = sent.segments();
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            let id = |raw: &str| Uuid::parse_str(raw).map(|id| id.to_string()).ok();
            match (sent.method.as_str(), segments.as_slice()) {
                ("POST", ["api", "v1", "customers"]) => {
                    effects
                        .created
                        .extend(answer.json()["id"].as_str().map(str::to_owned));
                }
                ("PATCH", ["api", "v1", "customers", raw]) => effects.changed.extend(id(raw)),
                ("DELETE", ["api", "v1", "customers", raw]) => effects.removed.extend(id(raw)),
                _ => {}
            }
        }
        effects
    }

    /// Rows written that no successful answer accounts for.
    fn unexplained(&self, before: &Snapshot, after: &Snapshot, requests: &[Sent]) -> Vec<String> {
        let mut problems = Vec::new();
        let naming = |id: &str| {
            requests
                .iter()
                .filter(|sent| sent.url.contains(id))
                .take(3)
                .map(Sent::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (id, row) in &after.customers {
            match before.customers.get(id) {
                None if !self.created.contains(id) => {
                    let email = serde_json::from_str::<serde_json::Value>(row)
                        .ok()
                        .and_then(|row| row["email"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let suspects: Vec<String> = requests
                        .iter()
                        .filter(|sent| sent.body_contains(email.split('@').next().unwrap_or("")))
                        .take(3)
                        .map(Sent::to_string)
                        .collect();
                    problems.push(format!(
                        "a customer no 201 answered was written: {row}\nrequests with its email:\n{}",
                        suspects.join("\n")
                    ));
                }
                Some(old) if old != row && !self.changed.contains(id) => problems.push(format!(
                    "customer {id} changed without a 2xx PATCH:\nbefore {old}\nafter  {row}\nrequests naming it:\n{}",
                    naming(id)
                )),
                _ => {}
            }
        }
        let created = after
            .customers
            .keys()
            .filter(|id| !before.customers.contains_key(*id))
            .count();
        if created != self.created.len() {
            problems.push(format!(
                "{} customers answered 201, {created} written",
                self.created.len()
            ));
        }
        for id in before.customers.keys() {
            let gone = !after.customers.contains_key(id);
            if gone != self.removed.contains(id) {
                problems.push(format!(
                    "customer {id} {} while {} answered its DELETE with 204:\n{}",
                    if gone {
                        "was removed"
                    } else {
                        "is still there"
                    },
                    if self.removed.contains(id) {
                        "a request"
                    } else {
                        "no request"
                    },
                    naming(id)
                ));
            }
        }
        if after.written_by_messages != before.written_by_messages {
            problems.push(format!(
                "rows only messages write went from {} to {}",
                before.written_by_messages, after.written_by_messages
            ));
        }
        problems
    }
}
