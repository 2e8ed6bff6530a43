//! Hostile HTTP input against the real order-svc, with the real customer-svc
//! behind it: [`REQUESTS`] requests, generated up front by proptest from a
//! fixed seed (the same requests every run), over every route of the
//! contract: methods × paths (valid ids, random UUIDs, garbage, encoded
//! control characters, overlong segments), query strings, bodies (valid ones
//! with a field of another type, random bytes, truncated JSON, deep nesting,
//! huge numbers, duplicate keys, wrong content types) and headers (garbage
//! `Authorization`, `Idempotency-Key`, `Origin`), as the admin, a shopper
//! (an account's token, an order's token) and anonymous. Whatever comes: no
//! 5xx, every 4xx in the contract's error shape, and no row written that no
//! successful answer accounts for. `FUZZ_ROUTES=1` prints what each route
//! answered.

use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

use proptest::{prelude::*, sample::Index};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use testkit::hostile_http;

use crate::harness::*;
use hostile_http::{Answer, Body, J, Part, Sent};

/// Requests sent: a matrix of every route × method × caller, then random ones.
const REQUESTS: usize = 2_000;
/// The account whose token the shopper's requests carry.
const ACCOUNT_EMAIL: &str = "fuzz-account@example.com";
/// The seeded catalogue (`migrations/orders/*_seed_demo_catalogue.sql`).
const SEEDED_PRODUCTS: u128 = 14;

type Plan = hostile_http::Plan<Slot>;

/// What a request names that exists only once the system runs.
#[derive(Debug, Clone)]
enum Slot {
    /// A product of the seeded catalogue.
    Seeded(u128),
    /// The fixture's own product, which requests may change and retire.
    Product,
    Order,
    Customer,
    OrderToken,
    CustomerToken,
}

fn seeded_product(index: u128) -> Uuid {
    Uuid::from_u128(0x0193b000_0000_7000_8000_000000000001 + (index % SEEDED_PRODUCTS))
}

#[tokio::test]
async fn hostile_requests_get_a_4xx_in_the_error_shape_and_write_nothing() {
    let started = Instant::now();
    let mut system = System::without_services().await;
    system.start_customer_svc().await;
    // The checkout quota would turn most checkouts into 429s before their
    // bodies are read; it has a test of its own.
    system
        .start_order_svc(&[("CHECKOUT_RATE_PER_MINUTE", "1000000")])
        .await;
    let fixture = Fixture::create(&system).await;

    let plans = generate();
    let client = hostile_http::client();
    let base = system.order_url("");
    let fill = |slot: &Slot| fixture.fill(slot);
    let requests: Vec<Sent> = plans
        .iter()
        .enumerate()
        .map(|(index, plan)| plan.render(index, &base, ADMIN_TOKEN, &fill, &client))
        .collect();

    let before = Snapshot::take(&system).await;
    let answers = hostile_http::send_all(&client, &requests).await;
    let after = Snapshot::take(&system).await;

    let mut problems: Vec<String> = requests
        .iter()
        .zip(&answers)
        .filter_map(|(sent, answer)| answer.problem().map(|p| format!("{p}\n{sent}")))
        .collect();
    let effects = Effects::of(&requests, &answers, &fixture);
    problems.extend(effects.unexplained(&before, &after, &requests));
    hostile_http::print_routes(&requests, &answers);
    eprintln!(
        "fuzz: {} requests tried against order-svc in {:.1?} (statuses {:?})",
        answers.len(),
        started.elapsed(),
        hostile_http::statuses(&answers)
    );
    assert_eq!(answers.len(), REQUESTS);
    hostile_http::assert_no_problems("order-svc", REQUESTS, &problems);
    system.stop().await;
}

#[test]
fn the_requests_are_the_same_every_run() {
    let first: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    let again: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(first.len(), REQUESTS);
    assert!(first == again, "the generator is not deterministic");
}

/// Found by the test above: a UI path the file system cannot open (a name
/// longer than it allows, a NUL, a file taken for a directory) was a 500.
#[tokio::test]
async fn a_ui_path_the_file_system_cannot_open_is_a_404() {
    let dir = std::env::temp_dir().join(format!("fuzz-ui-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a UI directory");
    std::fs::write(dir.join("index.html"), "<html></html>").expect("index.html");
    let mut system = System::without_services().await;
    let ui_dir = dir.to_str().expect("a UTF-8 path").to_owned();
    system.start_order_svc(&[("UI_DIR", &ui_dir)]).await;

    for path in [
        format!("/{}", "a".repeat(300)),
        format!("/x/{}/y", "é".repeat(200)),
        "/index.html/inside-a-file".to_owned(),
        "/a%00b".to_owned(),
    ] {
        let (status, body) = system.get_as(&system.order_url(&path), None).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let (status, _) = system.get_as(&system.order_url("/"), None).await;
    assert_eq!(status, 200, "the UI is still served");
    system.stop().await;
    std::fs::remove_dir_all(dir).expect("removed");
}

// ------------------------------------------------------------ the fixture

/// What the requests refer to that only exists once the system runs.
struct Fixture {
    product: Uuid,
    order: Uuid,
    order_token: String,
    customer: Uuid,
    customer_token: String,
    /// Customers whose credit and history the fixture's own writes change.
    emails: Vec<String>,
}

impl Fixture {
    async fn create(system: &System) -> Self {
        let product = system.product("7.50", 1000).await;
        let (customer, customer_token) = system.sign_up(ACCOUNT_EMAIL).await;
        let email = "fuzz-fixture@example.com";
        let (status, order) = system.checkout(email, &[(&product, 1)]).await;
        assert_eq!(status, 201, "{order}");
        Self {
            product: product.parse().expect("product id"),
            order: order["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("order id"),
            order_token: order["access_token"].as_str().expect("token").to_owned(),
            customer: customer.parse().expect("customer id"),
            customer_token,
            emails: vec![email.to_owned(), ACCOUNT_EMAIL.to_owned()],
        }
    }

    fn fill(&self, slot: &Slot) -> String {
        match slot {
            Slot::Seeded(n) => seeded_product(*n).to_string(),
            Slot::Product => self.product.to_string(),
            Slot::Order => self.order.to_string(),
            Slot::Customer => self.customer.to_string(),
            Slot::OrderToken => self.order_token.clone(),
            Slot::CustomerToken => self.customer_token.clone(),
        }
    }
}

// ------------------------------------------------------------ the requests

/// Every request: the matrix first, then random ones, from one fixed seed.
fn generate() -> Vec<Plan> {
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
    let routes: [(Vec<Part<Slot>>, Option<J>); 11] = [
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

fn valid_product(n: u32) -> J {
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
fn product_body(create: bool) -> BoxedStrategy<Body> {
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

fn valid_checkout(email: usize, first: u128, lines: usize) -> J {
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
fn checkout_body() -> BoxedStrategy<Body> {
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

// ------------------------------------------------------------ what was written

/// Every row of the tables the routes write, as JSON text, by key.
struct Snapshot {
    products: HashMap<String, String>,
    orders: HashMap<String, String>,
    order_lines: usize,
    idempotency_keys: usize,
    customers: HashMap<String, String>,
}

impl Snapshot {
    async fn take(system: &System) -> Self {
        let orders_db = system.orders_db().await;
        let customers_db = system.customers_db().await;
        let snapshot = Self {
            products: rows(
                &orders_db,
                "SELECT id::text, to_jsonb(p)::text FROM products p",
            )
            .await,
            orders: rows(
                &orders_db,
                "SELECT id::text, to_jsonb(o)::text FROM orders o",
            )
            .await,
            order_lines: count(&orders_db, "SELECT count(*) FROM order_lines").await,
            idempotency_keys: count(&orders_db, "SELECT count(*) FROM idempotency_keys").await,
            customers: rows(
                &customers_db,
                "SELECT email, to_jsonb(c)::text FROM customers c",
            )
            .await,
        };
        orders_db.close().await;
        customers_db.close().await;
        snapshot
    }
}

async fn rows(pool: &sqlx::PgPool, sql: &'static str) -> HashMap<String, String> {
    sqlx::query_as::<_, (String, String)>(sql)
        .fetch_all(pool)
        .await
        .expect("a snapshot")
        .into_iter()
        .collect()
}

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> usize {
    let n: i64 = sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count");
    usize::try_from(n).unwrap_or(0)
}

/// What the successful answers say was written.
#[derive(Default)]
struct Effects {
    /// Products a 201 created.
    products_created: HashSet<String>,
    /// Products a 2xx changed or retired, or a 2xx checkout took stock of.
    products_touched: HashSet<String>,
    /// Orders a 2xx checkout answered with (new, or the same again).
    orders_answered: HashSet<String>,
    /// Orders a 2xx cancelled.
    orders_cancelled: HashSet<String>,
    /// Emails of 2xx checkouts.
    checkout_emails: HashSet<String>,
    /// Emails whose credit or history may change (checkouts, cancellations).
    customers_touched: HashSet<String>,
    /// Lines of the new orders.
    lines: usize,
    /// Orders of checkouts answered 2xx with an `Idempotency-Key`.
    keyed: HashSet<String>,
}

impl Effects {
    fn of(requests: &[Sent], answers: &[Answer], fixture: &Fixture) -> Self {
        let mut effects = Effects::default();
        effects
            .customers_touched
            .extend(fixture.emails.iter().cloned());
        for (sent, answer) in requests.iter().zip(answers) {
            if !answer.is_success() || sent.method == Method::GET {
                continue;
            }
            let body = answer.json();
            let segments = sent.segments();
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            let line_products = |effects: &mut Effects| {
                for line in body["items"].as_array().into_iter().flatten() {
                    effects
                        .products_touched
                        .extend(line["product_id"].as_str().map(str::to_owned));
                }
            };
            match (sent.method.as_str(), segments.as_slice()) {
                ("POST", ["api", "v1", "products"]) => {
                    effects
                        .products_created
                        .extend(body["id"].as_str().map(str::to_owned));
                }
                ("PATCH" | "DELETE", ["api", "v1", "products", id]) => {
                    if let Ok(id) = Uuid::parse_str(id) {
                        effects.products_touched.insert(id.to_string());
                    }
                }
                ("POST", ["api", "v1", "orders"]) => {
                    let id = body["id"].as_str().unwrap_or("").to_owned();
                    let email = body["customer_email"].as_str().unwrap_or("").to_owned();
                    effects.checkout_emails.insert(email.clone());
                    effects.customers_touched.insert(email);
                    line_products(&mut effects);
                    if sent.has_header("idempotency-key") {
                        effects.keyed.insert(id.clone());
                    }
                    if effects.orders_answered.insert(id) {
                        effects.lines += body["items"].as_array().map_or(0, Vec::len);
                    }
                }
                ("POST", ["api", "v1", "orders", id, "cancel"]) => {
                    if let Ok(id) = Uuid::parse_str(id) {
                        effects.orders_cancelled.insert(id.to_string());
                    }
                    effects
                        .customers_touched
                        .extend(body["customer_email"].as_str().map(str::to_owned));
                    line_products(&mut effects);
                }
                _ => {}
            }
        }
        effects
    }

    /// Rows written that no successful answer accounts for, each with the
    /// requests that may have written it.
    fn unexplained(&self, before: &Snapshot, after: &Snapshot, requests: &[Sent]) -> Vec<String> {
        let mut problems = Vec::new();
        let suspects = |matches: &dyn Fn(&Sent) -> bool| -> String {
            requests
                .iter()
                .filter(|sent| matches(sent))
                .take(3)
                .map(Sent::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let field = |row: &str, name: &str| {
            serde_json::from_str::<Value>(row)
                .ok()
                .and_then(|row| row[name].as_str().map(str::to_owned))
                .unwrap_or_default()
        };

        let new_products: Vec<&String> = after
            .products
            .keys()
            .filter(|id| !before.products.contains_key(*id))
            .collect();
        for id in &new_products {
            if !self.products_created.contains(*id) {
                let row = &after.products[*id];
                let sku = field(row, "sku");
                problems.push(format!(
                    "a product no 201 answered was written: {row}\nrequests with its sku:\n{}",
                    suspects(&|sent| sent.body_contains(&sku))
                ));
            }
        }
        if new_products.len() != self.products_created.len() {
            problems.push(format!(
                "{} products answered 201, {} written",
                self.products_created.len(),
                new_products.len()
            ));
        }
        for (id, row) in &before.products {
            if after.products.get(id) != Some(row) && !self.products_touched.contains(id) {
                problems.push(format!(
                    "product {id} changed without a 2xx write:\nbefore {row}\nafter  {:?}\nrequests naming it:\n{}",
                    after.products.get(id),
                    suspects(&|sent| sent.url.contains(id.as_str()))
                ));
            }
        }

        let new_orders: Vec<&String> = after
            .orders
            .keys()
            .filter(|id| !before.orders.contains_key(*id))
            .collect();
        for id in &new_orders {
            if !self.orders_answered.contains(*id) {
                let row = &after.orders[*id];
                let email = field(row, "customer_email");
                problems.push(format!(
                    "an order no 2xx answered was written: {row}\nrequests with its email:\n{}",
                    suspects(&|sent| sent.body_contains(&email))
                ));
            }
        }
        let answered_new = self
            .orders_answered
            .iter()
            .filter(|id| !before.orders.contains_key(*id))
            .count();
        if new_orders.len() != answered_new {
            problems.push(format!(
                "{answered_new} new orders answered 2xx, {} written",
                new_orders.len()
            ));
        }
        let lines = after.order_lines.saturating_sub(before.order_lines);
        if lines != self.lines {
            problems.push(format!(
                "{} lines in the new orders' answers, {lines} written",
                self.lines
            ));
        }
        let keys = after
            .idempotency_keys
            .saturating_sub(before.idempotency_keys);
        if keys > self.keyed.len() {
            problems.push(format!(
                "{keys} idempotency keys written, {} keyed checkouts answered 2xx",
                self.keyed.len()
            ));
        }
        for (id, row) in &before.orders {
            if after.orders.get(id) != Some(row) && !self.orders_cancelled.contains(id) {
                problems.push(format!(
                    "order {id} changed without a 2xx cancel:\nbefore {row}\nafter  {:?}",
                    after.orders.get(id)
                ));
            }
        }

        for (email, row) in &after.customers {
            match before.customers.get(email) {
                None if !self.checkout_emails.contains(email) => problems.push(format!(
                    "a customer no 2xx checkout named was created: {row}\nrequests with its email:\n{}",
                    suspects(&|sent| sent.body_contains(email))
                )),
                Some(old) if old != row && !self.customers_touched.contains(email) => {
                    problems.push(format!(
                        "customer {email} changed without a 2xx checkout or cancel:\nbefore {old}\nafter  {row}"
                    ))
                }
                _ => {}
            }
        }
        problems
    }
}
