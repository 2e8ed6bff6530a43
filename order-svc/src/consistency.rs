//! The invariant checker: reads both services' databases and says whether
//! what the system promises holds, or exactly what is off. Tests call it
//! after faults; operators run it as `check-consistency` (see
//! `scripts/check-consistency.sh`). It only reads.
//!
//! What it checks, once the system is quiet (nothing in flight):
//! - credit: each customer's `credit_used` is what its held and settled
//!   reservations add up to;
//! - ledger: a confirmed order's reservation is settled, a cancelled one's
//!   released, a rejected one's neither held nor settled;
//! - history: every confirmed order is in its customer's history once, as
//!   confirmed, with the same total and customer; every cancelled order is
//!   there as cancelled; nothing else is there;
//! - sagas: none unfinished past its deadline (with a grace);
//! - outbox: no event unsent for longer than a bound;
//! - stock, given the stock each product started with: what is left plus
//!   what confirmed orders took is what there was.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    time::Duration,
};

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

/// How much lateness is tolerated before something counts as stuck.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// An unfinished saga this long past its deadline is stuck.
    pub saga_grace: Duration,
    /// An outbox row unsent for this long is stuck.
    pub outbox_grace: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            saga_grace: Duration::from_secs(60),
            outbox_grace: Duration::from_secs(60),
        }
    }
}

/// What kind of harm a problem is, as the fault suite counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Harm {
    /// Something that happened is missing or stuck: a confirmed or cancelled
    /// order not in its customer's history (or not as cancelled), a saga or
    /// an event stuck, stock that vanished.
    Lost,
    /// More stock left the shelf than there was.
    Oversold,
    /// Something counted more than it happened: a history entry for an order
    /// that is not confirmed or cancelled, or with another total or customer;
    /// stock given back twice.
    DoubleCounted,
    /// A customer's credit does not add up, or an order's credit is not
    /// settled, released or free as its status says.
    CreditOff,
}

/// One thing that is off.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What kind of harm it is.
    pub harm: Harm,
    /// What is off, in one sentence.
    pub what: String,
}

/// What the checker found.
#[derive(Debug, Default)]
pub struct Report {
    /// Each check run and how many things it looked at.
    pub checked: Vec<(&'static str, usize)>,
    /// What is off.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when every invariant holds.
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }

    /// How many problems are of this kind.
    pub fn count(&self, harm: Harm) -> usize {
        self.problems.iter().filter(|p| p.harm == harm).count()
    }

    fn off(&mut self, harm: Harm, what: String) {
        self.problems.push(Problem { harm, what });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (check, count) in &self.checked {
            writeln!(f, "checked {check}: {count}")?;
        }
        for problem in &self.problems {
            writeln!(f, "OFF: {}", problem.what)?;
        }
        if self.holds() {
            writeln!(f, "all invariants hold")
        } else {
            writeln!(f, "{} problem(s)", self.problems.len())
        }
    }
}

/// Runs every check against the orders and customers databases.
/// `initial_stock`, when known, enables the stock check.
pub async fn check(
    orders: &PgPool,
    customers: &PgPool,
    bounds: Bounds,
    initial_stock: Option<&HashMap<Uuid, i64>>,
) -> sqlx::Result<Report> {
    let mut report = Report::default();
    credit(customers, &mut report).await?;
    let ended = ended_orders(orders).await?;
    ledger(customers, &ended, &mut report).await?;
    history(customers, &ended, &mut report).await?;
    stuck(orders, bounds, &mut report).await?;
    if let Some(initial) = initial_stock {
        stock(orders, initial, &mut report).await?;
    }
    Ok(report)
}

async fn credit(customers: &PgPool, report: &mut Report) -> sqlx::Result<()> {
    let rows: Vec<(Uuid, Decimal, Decimal)> = sqlx::query_as(
        "SELECT c.id, c.credit_used,
                coalesce(sum(r.amount) FILTER (WHERE r.state IN ('held', 'settled')), 0)
         FROM customers c LEFT JOIN credit_reservations r ON r.customer_id = c.id
         GROUP BY c.id",
    )
    .fetch_all(customers)
    .await?;
    report.checked.push(("customers' credit", rows.len()));
    for (id, used, reserved) in rows {
        if used != reserved {
            report.off(Harm::CreditOff, format!(
                "customer {id}: credit_used {used} but held and settled reservations add up to {reserved}"
            ));
        }
    }
    Ok(())
}

/// An order whose saga has ended, as order-svc has it.
struct Ended {
    order_id: Uuid,
    saga_id: Uuid,
    customer_id: Option<Uuid>,
    status: String,
    total: Decimal,
}

async fn ended_orders(orders: &PgPool) -> sqlx::Result<Vec<Ended>> {
    let rows: Vec<(Uuid, Uuid, Option<Uuid>, String, Decimal)> = sqlx::query_as(
        "SELECT o.id, s.id, o.customer_id, o.status, o.total
         FROM orders o JOIN sagas s ON s.order_id = o.id
         WHERE o.status IN ('confirmed', 'cancelled', 'rejected') AND s.step = 'done'",
    )
    .fetch_all(orders)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(order_id, saga_id, customer_id, status, total)| Ended {
            order_id,
            saga_id,
            customer_id,
            status,
            total,
        })
        .collect())
}

async fn ledger(customers: &PgPool, ended: &[Ended], report: &mut Report) -> sqlx::Result<()> {
    let sagas: Vec<Uuid> = ended.iter().map(|o| o.saga_id).collect();
    let states: HashMap<Uuid, (String, Decimal)> = sqlx::query_as(
        "SELECT saga_id, state, amount FROM credit_reservations WHERE saga_id = ANY($1)",
    )
    .bind(&sagas)
    .fetch_all(customers)
    .await?
    .into_iter()
    .map(|(saga, state, amount): (Uuid, String, Decimal)| (saga, (state, amount)))
    .collect();
    report.checked.push(("orders' credit", ended.len()));
    for order in ended {
        let found = states.get(&order.saga_id);
        let state = found.map(|(state, _)| state.as_str());
        let fine = match order.status.as_str() {
            "confirmed" => found.is_some_and(|(s, a)| s == "settled" && *a == order.total),
            "cancelled" => state == Some("released"),
            _ => !matches!(state, Some("held" | "settled")),
        };
        if !fine {
            report.off(
                Harm::CreditOff,
                format!(
                    "order {} is {} but its credit is {}",
                    order.order_id,
                    order.status,
                    found.map_or("not reserved".to_owned(), |(s, a)| format!("{s} ({a})"))
                ),
            );
        }
    }
    Ok(())
}

async fn history(customers: &PgPool, ended: &[Ended], report: &mut Report) -> sqlx::Result<()> {
    let rows: Vec<(Uuid, Uuid, String, Decimal)> =
        sqlx::query_as("SELECT order_id, customer_id, status, total FROM order_history")
            .fetch_all(customers)
            .await?;
    let in_history: HashMap<Uuid, (Uuid, String, Decimal)> = rows
        .into_iter()
        .map(|(order, customer, status, total)| (order, (customer, status, total)))
        .collect();
    let mut expected = HashSet::new();
    for order in ended.iter().filter(|o| o.status != "rejected") {
        expected.insert(order.order_id);
        match in_history.get(&order.order_id) {
            None => report.off(
                Harm::Lost,
                format!(
                    "{} order {} is missing from its customer's history",
                    order.status, order.order_id
                ),
            ),
            Some((customer, status, total)) => {
                if Some(*customer) != order.customer_id
                    || *status != order.status
                    || *total != order.total
                {
                    // A status behind the order's (a cancellation that never
                    // arrived) is something lost; any other disagreement
                    // counts something that did not happen.
                    let harm = if *status != order.status {
                        Harm::Lost
                    } else {
                        Harm::DoubleCounted
                    };
                    report.off(harm, format!(
                        "order {} is {} for {:?}, total {}; the history says {status} for {customer}, total {total}",
                        order.order_id, order.status, order.customer_id, order.total
                    ));
                }
            }
        }
    }
    for order in in_history.keys().filter(|id| !expected.contains(id)) {
        report.off(
            Harm::DoubleCounted,
            format!("order {order} is in a history but not confirmed or cancelled"),
        );
    }
    report.checked.push(("histories", in_history.len()));
    Ok(())
}

async fn stuck(orders: &PgPool, bounds: Bounds, report: &mut Report) -> sqlx::Result<()> {
    let (unfinished, late): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE deadline < now() - make_interval(secs => $1))
         FROM sagas WHERE step <> 'done'",
    )
    .bind(bounds.saga_grace.as_secs_f64())
    .fetch_one(orders)
    .await?;
    report
        .checked
        .push(("unfinished sagas", usize::try_from(unfinished).unwrap_or(0)));
    if late > 0 {
        report.off(
            Harm::Lost,
            format!(
                "{late} saga(s) unfinished more than {:?} past their deadline",
                bounds.saga_grace
            ),
        );
    }
    let (unsent, old): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE created_at < now() - make_interval(secs => $1))
         FROM outbox WHERE sent_at IS NULL",
    )
    .bind(bounds.outbox_grace.as_secs_f64())
    .fetch_one(orders)
    .await?;
    report
        .checked
        .push(("unsent events", usize::try_from(unsent).unwrap_or(0)));
    if old > 0 {
        report.off(
            Harm::Lost,
            format!(
                "{old} event(s) unsent for more than {:?}",
                bounds.outbox_grace
            ),
        );
    }
    Ok(())
}

async fn stock(
    orders: &PgPool,
    initial: &HashMap<Uuid, i64>,
    report: &mut Report,
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = initial.keys().copied().collect();
    let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT p.id, p.stock::bigint,
                coalesce((SELECT sum(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
                          WHERE l.product_id = p.id AND o.status = 'confirmed'), 0)::bigint
         FROM products p WHERE p.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(orders)
    .await?;
    report.checked.push(("products' stock", rows.len()));
    for (id, left, taken) in rows {
        let started = initial.get(&id).copied().unwrap_or_default();
        if left + taken != started {
            // More sold than there was is an oversell; stock that appeared
            // was counted back twice; stock that vanished was lost.
            let harm = if taken > started || left < 0 {
                Harm::Oversold
            } else if left + taken > started {
                Harm::DoubleCounted
            } else {
                Harm::Lost
            };
            report.off(harm, format!(
                "product {id}: {left} left and {taken} taken by confirmed orders, but it started with {started}"
            ));
        }
    }
    Ok(())
}
