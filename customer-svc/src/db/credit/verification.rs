//! `customer.verify_or_create`: the checkout saga's first step on this side.
//! Verifications that arrive together are decided in one transaction: each
//! finds or creates its customer, and is refused (not signed in as the
//! account's owner, blocked, not enough credit) or holds the amount.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use rust_decimal::Decimal;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use contract::{Currency, Money, RefusalReason, VerifyOrCreateReply, VerifyOrCreateRequest};

use super::reservation::{
    RACE_ATTEMPTS, Reservation, ReservationOfSaga, lost_race_or_duplicate_saga, refused_customer,
};

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
