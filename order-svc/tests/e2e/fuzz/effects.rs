//! What the successful answers say was written, and the rows written that
//! none of them accounts for.

use std::collections::HashSet;

use uuid::Uuid;

use testkit::hostile_http::{self, Answer, Sent};

use super::{fixture::Fixture, snapshot::Snapshot};

/// What the successful answers say was written.
#[derive(Default)]
pub(super) struct Effects {
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
    pub(super) fn of(requests: &[Sent], answers: &[Answer], fixture: &Fixture) -> Self {
        let mut effects = Effects::default();
        effects
            .customers_touched
            .extend(fixture.emails.iter().cloned());
        for (sent, answer) in hostile_http::successful_writes(requests, answers) {
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
    pub(super) fn unexplained(
        &self,
        before: &Snapshot,
        after: &Snapshot,
        requests: &[Sent],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let suspects = |matches: &dyn Fn(&Sent) -> bool| hostile_http::suspects(requests, matches);
        let field = hostile_http::row_field;

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
