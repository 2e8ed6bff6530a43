//! Credit reservations: one row per saga, and the customer's `credit_used`
//! moved in the same transaction. Every function here is idempotent per saga.
//!
//! A reservation is `held` (with a lease) until `order.confirmed` settles it,
//! a release gives it back, or its lease lapses. A release that finds no row
//! leaves a `released` row behind, which fences a reserve that arrives later.
//!
//! One lock order for every writer in this service: existing reservations by
//! saga id, then customers by id. Event batches and the lapse sweep take all
//! their locks up front that way ([`lock_in_order`]); a verification batch
//! locks its reservations sorted, then its customers sorted; a release locks
//! its one reservation, then its one customer. New reservation rows come last
//! and wait only on the same saga's row. So no two writers ever wait on each
//! other in a circle.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use tracing::{info, warn};
use uuid::Uuid;

use contract::{
    Currency, Money, OrderConfirmed, RefusalReason, VerifyOrCreateReply, VerifyOrCreateRequest,
};

/// Attempts of a transaction that lost a race before giving up.
const RACE_ATTEMPTS: u32 = 5;

/// Takes, inside `tx`, the locks a writer of these sagas' reservations and
/// these customers' credit needs, in the one order: reservations by saga id,
/// then customers by id (`FOR NO KEY UPDATE`, the lock an update of the
/// credit takes). Returns the customers that exist.
pub(crate) async fn lock_in_order(
    tx: &mut PgConnection,
    sagas: &[Uuid],
    customers: &[Uuid],
) -> sqlx::Result<HashSet<Uuid>> {
    sqlx::query(
        "SELECT 1 FROM credit_reservations WHERE saga_id = ANY($1) ORDER BY saga_id FOR UPDATE",
    )
    .bind(sagas)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT id FROM customers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(customers)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect())
}

#[derive(Debug, FromRow)]
struct ReservationOfSaga {
    saga_id: Uuid,
    #[sqlx(flatten)]
    reservation: Reservation,
}

#[derive(Debug, FromRow)]
struct Reservation {
    customer_id: Option<Uuid>,
    amount: Decimal,
    state: String,
    refusal_reason: Option<String>,
}

impl Reservation {
    /// The answer this saga was (or would now be) given; a stored refusal
    /// reason this contract does not name is an error, not a guess.
    fn reply(&self) -> sqlx::Result<VerifyOrCreateReply> {
        let refused = |reason| VerifyOrCreateReply::Refused {
            customer_id: self.customer_id.and_then(|id| refused_customer(reason, id)),
            reason,
        };
        Ok(match (self.state.as_str(), self.customer_id) {
            ("held" | "settled", Some(customer_id)) => {
                VerifyOrCreateReply::Reserved { customer_id }
            }
            ("refused", _) => {
                let stored = self.refusal_reason.as_deref().unwrap_or_default();
                refused(RefusalReason::parse(stored).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown refusal reason {stored:?}").into())
                })?)
            }
            _ => refused(RefusalReason::SagaReleased),
        })
    }
}

/// The customer a refusal names: none for `sign_in_required`, whose caller
/// has not shown they are that customer (the account's id is not theirs to
/// learn, nor the rejected order theirs to file under it).
fn refused_customer(reason: RefusalReason, customer_id: Uuid) -> Option<Uuid> {
    (reason != RefusalReason::SignInRequired).then_some(customer_id)
}

async fn reservation_for_update(
    tx: &mut PgConnection,
    saga_id: Uuid,
) -> sqlx::Result<Option<Reservation>> {
    sqlx::query_as(
        "SELECT customer_id, amount, state, refusal_reason
         FROM credit_reservations WHERE saga_id = $1 FOR UPDATE",
    )
    .bind(saga_id)
    .fetch_optional(tx)
    .await
}

/// `customer.verify_or_create` for a batch of requests, in one transaction:
/// finds or creates each customer, refuses a blocked one or one without
/// enough credit, and otherwise holds the amount. Requests are decided in
/// the order given (two sagas of one customer see each other's holds), and
/// the answers come in that order. The same saga always gets the answer it
/// got the first time, also when it appears twice in one batch.
pub async fn verify_or_create_all(
    pool: &PgPool,
    requests: &[VerifyOrCreateRequest],
    default_limit: Money,
    lease: Duration,
) -> sqlx::Result<Vec<VerifyOrCreateReply>> {
    let mut attempt = 1;
    loop {
        match try_verify_or_create_all(pool, requests, default_limit, lease).await {
            Err(error) if attempt < RACE_ATTEMPTS && lost_race_or_duplicate_saga(&error) => {
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// A concurrent delivery of the same saga inserted its reservation first: run
/// again and answer what that one decided.
fn lost_race_or_duplicate_saga(error: &sqlx::Error) -> bool {
    super::lost_a_race(error) || super::violates(error, "credit_reservations_pkey")
}

/// A customer as a batch of verifications sees it, with the holds the batch
/// has decided so far.
#[derive(Debug, FromRow)]
struct Account {
    id: Uuid,
    email: String,
    status: String,
    credit_limit: Decimal,
    credit_used: Decimal,
    /// An account with a password: only its owner, signed in, buys with it.
    has_password: bool,
}

/// A new reservation row.
struct Decided {
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
    currency: Currency,
    refusal: Option<RefusalReason>,
}

async fn try_verify_or_create_all(
    pool: &PgPool,
    requests: &[VerifyOrCreateRequest],
    default_limit: Money,
    lease: Duration,
) -> sqlx::Result<Vec<VerifyOrCreateReply>> {
    let mut tx = pool.begin().await?;
    // The service's lock order: reservations by saga id, then customers by id.
    let saga_ids: Vec<Uuid> = requests.iter().map(|r| r.saga_id).collect();
    let existing: Vec<(Uuid, Reservation)> = sqlx::query_as(
        "SELECT saga_id, customer_id, amount, state, refusal_reason
         FROM credit_reservations WHERE saga_id = ANY($1) ORDER BY saga_id FOR UPDATE",
    )
    .bind(&saga_ids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row: ReservationOfSaga| (row.saga_id, row.reservation))
    .collect();
    let mut answers: HashMap<Uuid, VerifyOrCreateReply> = existing
        .iter()
        .map(|(saga_id, reservation)| Ok((*saga_id, reservation.reply()?)))
        .collect::<sqlx::Result<_>>()?;
    let fresh: Vec<&VerifyOrCreateRequest> = {
        let mut seen = HashSet::new();
        requests
            .iter()
            .filter(|r| !answers.contains_key(&r.saga_id) && seen.insert(r.saga_id))
            .collect()
    };

    if !fresh.is_empty() {
        // New emails become customers; two sagas for one new email create it
        // once (the unique index makes a concurrent insert wait, then do
        // nothing). Sorted, so that two writers insert in the same order.
        let mut new_customers: Vec<(&str, &str)> = Vec::new();
        for request in &fresh {
            if !new_customers
                .iter()
                .any(|(e, _)| *e == request.email.as_str())
            {
                new_customers.push((request.email.as_str(), request.name.as_str()));
            }
        }
        new_customers.sort_unstable();
        let ids: Vec<Uuid> = new_customers.iter().map(|_| Uuid::now_v7()).collect();
        let emails: Vec<&str> = new_customers.iter().map(|(e, _)| *e).collect();
        let names: Vec<&str> = new_customers.iter().map(|(_, n)| *n).collect();
        sqlx::query(
            "INSERT INTO customers (id, email, name, credit_limit)
             SELECT c.id, c.email, c.name, $4 FROM unnest($1::uuid[], $2::text[], $3::text[])
                  AS c(id, email, name)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&ids)
        .bind(&emails)
        .bind(&names)
        .bind(default_limit.amount())
        .execute(&mut *tx)
        .await?;
        // `FOR NO KEY UPDATE`, the lock an update of the credit takes: it
        // orders concurrent verifications of one customer, but not the key
        // share that recording an order event takes on its customer (a
        // foreign key). With `FOR UPDATE` the two waited on each other, in
        // no set order, until the deadlock detector broke one off a second
        // later (issue 10: p99 of 2.2 s with returning customers).
        let mut accounts: Vec<Account> = sqlx::query_as(
            "SELECT id, email, status, credit_limit, credit_used,
                    password_hash IS NOT NULL AS has_password
             FROM customers WHERE email = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        )
        .bind(&emails)
        .fetch_all(&mut *tx)
        .await?;

        let decided = decide(&fresh, &mut accounts)?;
        let charged: Vec<(Uuid, Decimal)> = accounts
            .iter()
            .filter_map(|a| {
                let added: Decimal = decided
                    .iter()
                    .filter(|d| d.customer_id == a.id && d.refusal.is_none())
                    .map(|d| d.amount)
                    .sum();
                (added > Decimal::ZERO).then_some((a.id, added))
            })
            .collect();
        // The credit taken and the reservations in one statement (a round trip
        // each on the checkout's path). `= ANY($1)` beside the join: the cached
        // generic plan then finds the rows by index, not by scanning a table
        // its statistics think small.
        sqlx::query(
            "WITH charged AS (
               UPDATE customers c SET credit_used = c.credit_used + t.added, updated_at = now()
               FROM unnest($1::uuid[], $2::numeric[]) AS t(id, added)
               WHERE c.id = ANY($1) AND c.id = t.id
             )
             INSERT INTO credit_reservations
                (saga_id, customer_id, amount, currency, state, refusal_reason, lease_expires_at)
             SELECT r.saga_id, r.customer_id, r.amount, r.currency,
                    CASE WHEN r.refusal IS NULL THEN 'held' ELSE 'refused' END, r.refusal,
                    CASE WHEN r.refusal IS NULL THEN now() + make_interval(secs => $8) END
             FROM unnest($3::uuid[], $4::uuid[], $5::numeric[], $6::text[], $7::text[])
                  AS r(saga_id, customer_id, amount, currency, refusal)",
        )
        .bind(charged.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(charged.iter().map(|(_, added)| *added).collect::<Vec<_>>())
        .bind(decided.iter().map(|d| d.saga_id).collect::<Vec<_>>())
        .bind(decided.iter().map(|d| d.customer_id).collect::<Vec<_>>())
        .bind(decided.iter().map(|d| d.amount).collect::<Vec<_>>())
        .bind(
            decided
                .iter()
                .map(|d| d.currency.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            decided
                .iter()
                .map(|d| d.refusal.map(RefusalReason::code))
                .collect::<Vec<_>>(),
        )
        .bind(lease.as_secs_f64())
        .execute(&mut *tx)
        .await?;
        for d in &decided {
            answers.insert(
                d.saga_id,
                match d.refusal {
                    None => VerifyOrCreateReply::Reserved {
                        customer_id: d.customer_id,
                    },
                    Some(reason) => VerifyOrCreateReply::Refused {
                        customer_id: refused_customer(reason, d.customer_id),
                        reason,
                    },
                },
            );
        }
    }
    tx.commit().await?;
    requests
        .iter()
        .map(|r| {
            answers
                .get(&r.saga_id)
                .cloned()
                .ok_or_else(|| sqlx::Error::Protocol(format!("saga {} was not decided", r.saga_id)))
        })
        .collect()
}

/// Decides each fresh request in order against who may buy for the
/// customer, its status and credit, counting the holds decided before it.
fn decide(
    fresh: &[&VerifyOrCreateRequest],
    accounts: &mut [Account],
) -> sqlx::Result<Vec<Decided>> {
    fresh
        .iter()
        .map(|request| {
            let account = accounts
                .iter_mut()
                .find(|a| a.email == request.email.as_str())
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("no customer for {}", request.email.as_str()))
                })?;
            let amount = request.amount.amount();
            let signed_in_as_owner = request.customer_id == Some(account.id);
            let refusal =
                if !signed_in_as_owner && (account.has_password || request.customer_id.is_some()) {
                    // A guest naming an account's email, or a token for another
                    // customer than the one the email now names.
                    Some(RefusalReason::SignInRequired)
                } else if account.status != "active" {
                    Some(RefusalReason::CustomerBlocked)
                } else if account.credit_used + amount > account.credit_limit {
                    Some(RefusalReason::CreditLimitExceeded)
                } else {
                    account.credit_used += amount;
                    None
                };
            Ok(Decided {
                saga_id: request.saga_id,
                customer_id: account.id,
                amount: if refusal.is_some() {
                    Decimal::ZERO
                } else {
                    amount
                },
                currency: request.currency.clone(),
                refusal,
            })
        })
        .collect()
}

/// `customer.release_credit`: gives back what the saga holds and returns the
/// amount. Releasing twice, or what was never reserved, gives back nothing; in
/// the latter case the `released` row left behind fences a later reserve.
/// Settled credit is not touched here: only a cancellation releases it.
pub async fn release(pool: &PgPool, saga_id: Uuid) -> sqlx::Result<Money> {
    let mut attempt = 1;
    loop {
        let mut tx = pool.begin().await?;
        let outcome = release_held(&mut tx, saga_id, false).await;
        let outcome = match outcome {
            Ok(amount) => tx.commit().await.map(|()| amount),
            Err(error) => Err(error),
        };
        match outcome {
            Err(error) if attempt < RACE_ATTEMPTS && lost_race_or_duplicate_saga(&error) => {
                attempt += 1;
            }
            Err(error) => return Err(error),
            Ok(amount) => {
                return Money::new(amount).map_err(|e| {
                    sqlx::Error::Decode(format!("released amount {amount}: {}", e.0).into())
                });
            }
        }
    }
}

/// Releases the saga's credit inside `tx`: what is held, and with
/// `including_settled` what a confirmed order settled too (a cancellation).
/// Leaves a fencing `released` row when there was none.
pub(crate) async fn release_held(
    tx: &mut PgConnection,
    saga_id: Uuid,
    including_settled: bool,
) -> sqlx::Result<Decimal> {
    let fenced = sqlx::query(
        "INSERT INTO credit_reservations (saga_id, state) VALUES ($1, 'released')
         ON CONFLICT (saga_id) DO NOTHING",
    )
    .bind(saga_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if fenced == 1 {
        info!(%saga_id, "release before any reserve: saga fenced");
        return Ok(Decimal::ZERO);
    }
    let Some(reservation) = reservation_for_update(tx, saga_id).await? else {
        return Ok(Decimal::ZERO);
    };
    let gives_back = match reservation.state.as_str() {
        "held" => true,
        "settled" if including_settled => true,
        // Its credit went back when it lapsed. Marked released all the same,
        // so that a confirmation arriving after this (a cancellation that
        // overtook it) finds it released and charges nothing.
        "lapsed" => false,
        _ => return Ok(Decimal::ZERO),
    };
    let customer_id = reservation.customer_id.filter(|_| gives_back);
    if let Some(customer_id) = customer_id {
        give_back(tx, customer_id, reservation.amount).await?;
    }
    sqlx::query(
        "UPDATE credit_reservations
         SET state = 'released', lease_expires_at = NULL, updated_at = now()
         WHERE saga_id = $1",
    )
    .bind(saga_id)
    .execute(&mut *tx)
    .await?;
    Ok(if customer_id.is_some() {
        reservation.amount
    } else {
        Decimal::ZERO
    })
}

async fn give_back(tx: &mut PgConnection, customer_id: Uuid, amount: Decimal) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE customers SET credit_used = greatest(credit_used - $2, 0), updated_at = now()
         WHERE id = $1",
    )
    .bind(customer_id)
    .bind(amount)
    .execute(tx)
    .await
    .map(drop)
}

/// Settles the reservations of confirmed orders, inside `tx`: held ones in
/// one statement, the rare others (lapsed, missing) one by one.
pub(crate) async fn settle_all(
    tx: &mut PgConnection,
    confirmed: &[&OrderConfirmed],
) -> sqlx::Result<()> {
    let saga_ids: Vec<Uuid> = confirmed.iter().map(|e| e.saga_id).collect();
    let found: Vec<ReservationOfSaga> = sqlx::query_as(
        "SELECT saga_id, customer_id, amount, state, refusal_reason
         FROM credit_reservations WHERE saga_id = ANY($1) ORDER BY saga_id FOR UPDATE",
    )
    .bind(&saga_ids)
    .fetch_all(&mut *tx)
    .await?;
    let held: Vec<Uuid> = found
        .iter()
        .filter(|row| row.reservation.state == "held")
        .map(|row| row.saga_id)
        .collect();
    sqlx::query(
        "UPDATE credit_reservations
         SET state = 'settled', lease_expires_at = NULL, updated_at = now()
         WHERE saga_id = ANY($1)",
    )
    .bind(&held)
    .execute(&mut *tx)
    .await?;
    // Customers in id order, as every writer of customers takes them.
    let mut by_customer = confirmed.to_vec();
    by_customer.sort_by_key(|event| (event.customer_id, event.saga_id));
    for event in by_customer {
        let state = found
            .iter()
            .find(|row| row.saga_id == event.saga_id)
            .map(|row| row.reservation.state.as_str());
        if matches!(state, None | Some("lapsed")) {
            settle(
                tx,
                event.saga_id,
                event.customer_id,
                event.total.amount(),
                event.currency.as_str(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Settles the saga's reservation for a confirmed order, inside `tx`.
async fn settle(
    tx: &mut PgConnection,
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
    currency: &str,
) -> sqlx::Result<()> {
    let Some(reservation) = reservation_for_update(tx, saga_id).await? else {
        // No reservation at all (for example a restored database): the order
        // is confirmed, so its credit is taken now, over the limit if need be.
        charge(tx, saga_id, customer_id, amount).await?;
        sqlx::query(
            "INSERT INTO credit_reservations (saga_id, customer_id, amount, currency, state)
             VALUES ($1, $2, $3, $4, 'settled')",
        )
        .bind(saga_id)
        .bind(customer_id)
        .bind(amount)
        .bind(currency)
        .execute(&mut *tx)
        .await?;
        return Ok(());
    };
    let settle = match reservation.state.as_str() {
        "held" => true,
        "lapsed" => {
            // Its lease ran out before the confirmation arrived: the order is
            // confirmed all the same, so its credit is taken again, over the
            // limit if it was spent meanwhile.
            charge(tx, saga_id, customer_id, reservation.amount).await?;
            true
        }
        // Settled already, released by a cancellation that overtook this
        // confirmation, or refused: nothing to settle.
        _ => false,
    };
    if settle {
        sqlx::query(
            "UPDATE credit_reservations
             SET state = 'settled', lease_expires_at = NULL, updated_at = now()
             WHERE saga_id = $1",
        )
        .bind(saga_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Takes `amount` of the customer's credit for a confirmed order, even past
/// the limit: the debt is real. Going over is counted
/// (`credit_overdrafts_total`) and shows as the customer's `overdraft`.
async fn charge(
    tx: &mut PgConnection,
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
) -> sqlx::Result<()> {
    let over: Option<Decimal> = sqlx::query_scalar(
        "UPDATE customers SET credit_used = credit_used + $2, updated_at = now()
         WHERE id = $1 RETURNING greatest(credit_used - credit_limit, 0)",
    )
    .bind(customer_id)
    .bind(amount)
    .fetch_optional(tx)
    .await?;
    if let Some(over) = over.filter(|over| *over > Decimal::ZERO) {
        metrics::counter!("credit_overdrafts_total").increment(1);
        warn!(%saga_id, %customer_id, %amount, %over, "a confirmed order took the customer over the credit limit");
    }
    Ok(())
}

/// Releases every held reservation whose lease has run out; returns how many.
pub async fn lapse_expired(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    // Reservations first (by saga id, skipping those another writer holds),
    // then their customers by id: the service's one lock order.
    let lapsed: Vec<(Uuid, Uuid, Decimal)> = sqlx::query_as(
        "WITH due AS (
            SELECT saga_id FROM credit_reservations
            WHERE state = 'held' AND lease_expires_at < now()
            ORDER BY saga_id
            LIMIT 500
            FOR UPDATE SKIP LOCKED)
         UPDATE credit_reservations r
         SET state = 'lapsed', lease_expires_at = NULL, updated_at = now()
         FROM due WHERE r.saga_id = due.saga_id
         RETURNING r.saga_id, r.customer_id, r.amount",
    )
    .fetch_all(&mut *tx)
    .await?;
    if lapsed.is_empty() {
        return Ok(0);
    }
    let customers: Vec<Uuid> = lapsed.iter().map(|(_, customer, _)| *customer).collect();
    lock_in_order(&mut tx, &[], &customers).await?;
    let (ids, amounts): (Vec<Uuid>, Vec<Decimal>) = lapsed
        .iter()
        .map(|(_, customer, amount)| (*customer, *amount))
        .unzip();
    sqlx::query(
        "UPDATE customers c
         SET credit_used = greatest(c.credit_used - l.total, 0), updated_at = now()
         FROM (SELECT id, sum(amount) AS total FROM unnest($1::uuid[], $2::numeric[]) AS t(id, amount)
               GROUP BY id) l
         WHERE c.id = l.id",
    )
    .bind(&ids)
    .bind(&amounts)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    for (saga_id, customer_id, amount) in &lapsed {
        info!(%saga_id, %customer_id, %amount, "credit reservation lapsed");
    }
    Ok(lapsed.len() as u64)
}
