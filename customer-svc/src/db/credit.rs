//! Credit reservations: one row per saga, and the customer's `credit_used`
//! moved in the same transaction. Every function here is idempotent per saga.
//!
//! A reservation is `held` (with a lease) until `order.confirmed` settles it,
//! a release gives it back, or its lease lapses. A release that finds no row
//! leaves a `released` row behind, which fences a reserve that arrives later.

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use tracing::{info, warn};
use uuid::Uuid;

use messaging::contract::{Money, RefusalReason, VerifyOrCreateReply, VerifyOrCreateRequest};

/// Attempts of a transaction that lost a race before giving up.
const RACE_ATTEMPTS: u32 = 5;

#[derive(Debug, FromRow)]
struct Reservation {
    customer_id: Option<Uuid>,
    amount: Decimal,
    state: String,
    refusal_reason: Option<String>,
}

impl Reservation {
    /// The answer this saga was (or would now be) given.
    fn reply(&self) -> VerifyOrCreateReply {
        let refused = |reason| VerifyOrCreateReply::Refused {
            customer_id: self.customer_id,
            reason,
        };
        match (self.state.as_str(), self.customer_id) {
            ("held" | "settled", Some(customer_id)) => {
                VerifyOrCreateReply::Reserved { customer_id }
            }
            ("refused", _) => refused(match self.refusal_reason.as_deref() {
                Some("customer_blocked") => RefusalReason::CustomerBlocked,
                Some("credit_limit_exceeded") => RefusalReason::CreditLimitExceeded,
                _ => RefusalReason::SagaReleased,
            }),
            _ => refused(RefusalReason::SagaReleased),
        }
    }
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

/// `customer.verify_or_create`: finds or creates the customer, refuses a
/// blocked one or one without enough credit, and otherwise holds the amount.
/// The same saga always gets the answer it got the first time.
pub async fn verify_or_create(
    pool: &PgPool,
    request: &VerifyOrCreateRequest,
    default_limit: Money,
    lease: Duration,
) -> sqlx::Result<VerifyOrCreateReply> {
    let mut attempt = 1;
    loop {
        match try_verify_or_create(pool, request, default_limit, lease).await {
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

async fn try_verify_or_create(
    pool: &PgPool,
    request: &VerifyOrCreateRequest,
    default_limit: Money,
    lease: Duration,
) -> sqlx::Result<VerifyOrCreateReply> {
    let mut tx = pool.begin().await?;
    if let Some(existing) = reservation_for_update(&mut tx, request.saga_id).await? {
        tx.commit().await?;
        return Ok(existing.reply());
    }

    // Two sagas for one new email: the unique index makes the second insert
    // wait for the first, then do nothing; both then lock the same row.
    sqlx::query(
        "INSERT INTO customers (id, email, name, credit_limit) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(request.email.as_str())
    .bind(request.name.as_str())
    .bind(default_limit.amount())
    .execute(&mut *tx)
    .await?;
    let (customer_id, status): (Uuid, String) =
        sqlx::query_as("SELECT id, status FROM customers WHERE email = $1 FOR UPDATE")
            .bind(request.email.as_str())
            .fetch_one(&mut *tx)
            .await?;

    let amount = request.amount.amount();
    let refusal = if status != "active" {
        Some(RefusalReason::CustomerBlocked)
    } else {
        let taken = sqlx::query(
            "UPDATE customers SET credit_used = credit_used + $2, updated_at = now()
             WHERE id = $1 AND credit_used + $2 <= credit_limit",
        )
        .bind(customer_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        (taken == 0).then_some(RefusalReason::CreditLimitExceeded)
    };

    let lease_seconds = lease.as_secs_f64();
    sqlx::query(
        "INSERT INTO credit_reservations
            (saga_id, customer_id, amount, currency, state, refusal_reason, lease_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6,
                 CASE WHEN $5 = 'held' THEN now() + make_interval(secs => $7) END)",
    )
    .bind(request.saga_id)
    .bind(customer_id)
    .bind(if refusal.is_some() {
        Decimal::ZERO
    } else {
        amount
    })
    .bind(&request.currency)
    .bind(if refusal.is_some() { "refused" } else { "held" })
    .bind(refusal.map(RefusalReason::code))
    .bind(lease_seconds)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    Ok(match refusal {
        None => VerifyOrCreateReply::Reserved { customer_id },
        Some(reason) => VerifyOrCreateReply::Refused {
            customer_id: Some(customer_id),
            reason,
        },
    })
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
            Ok(amount) => return Ok(Money::new(amount).unwrap_or(Money::ZERO)),
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
    let releasable = match reservation.state.as_str() {
        "held" => true,
        "settled" => including_settled,
        _ => false,
    };
    let Some(customer_id) = reservation.customer_id.filter(|_| releasable) else {
        return Ok(Decimal::ZERO);
    };
    give_back(tx, customer_id, reservation.amount).await?;
    sqlx::query(
        "UPDATE credit_reservations
         SET state = 'released', lease_expires_at = NULL, updated_at = now()
         WHERE saga_id = $1",
    )
    .bind(saga_id)
    .execute(&mut *tx)
    .await?;
    Ok(reservation.amount)
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

/// Settles the saga's reservation for a confirmed order, inside `tx`.
pub(crate) async fn settle(
    tx: &mut PgConnection,
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
    currency: &str,
) -> sqlx::Result<()> {
    let Some(reservation) = reservation_for_update(tx, saga_id).await? else {
        // No reservation at all (for example a restored database): take the
        // credit now if it fits, and record it as settled.
        let taken = take_if_it_fits(tx, customer_id, amount).await?;
        if !taken {
            warn!(%saga_id, %customer_id, %amount, "confirmed order exceeds the credit available; not charged to credit");
        }
        sqlx::query(
            "INSERT INTO credit_reservations (saga_id, customer_id, amount, currency, state)
             VALUES ($1, $2, $3, $4, 'settled')",
        )
        .bind(saga_id)
        .bind(customer_id)
        .bind(if taken { amount } else { Decimal::ZERO })
        .bind(currency)
        .execute(&mut *tx)
        .await?;
        return Ok(());
    };
    let settle = match reservation.state.as_str() {
        "held" => true,
        "lapsed" => {
            // Its lease ran out before the confirmation arrived: take the credit again.
            let taken = take_if_it_fits(tx, customer_id, reservation.amount).await?;
            if !taken {
                warn!(%saga_id, %customer_id, "confirmed after its reservation lapsed, and the credit is no longer available");
            }
            taken
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

async fn take_if_it_fits(
    tx: &mut PgConnection,
    customer_id: Uuid,
    amount: Decimal,
) -> sqlx::Result<bool> {
    let taken = sqlx::query(
        "UPDATE customers SET credit_used = credit_used + $2, updated_at = now()
         WHERE id = $1 AND credit_used + $2 <= credit_limit",
    )
    .bind(customer_id)
    .bind(amount)
    .execute(tx)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Releases every held reservation whose lease has run out; returns how many.
pub async fn lapse_expired(pool: &PgPool) -> sqlx::Result<u64> {
    let lapsed: Vec<(Uuid, Uuid, Decimal)> = sqlx::query_as(
        "WITH lapsed AS (
            UPDATE credit_reservations
            SET state = 'lapsed', lease_expires_at = NULL, updated_at = now()
            WHERE saga_id IN (
                SELECT saga_id FROM credit_reservations
                WHERE state = 'held' AND lease_expires_at < now()
                ORDER BY lease_expires_at
                LIMIT 500
                FOR UPDATE SKIP LOCKED)
            RETURNING saga_id, customer_id, amount),
         given_back AS (
            UPDATE customers c
            SET credit_used = greatest(c.credit_used - l.total, 0), updated_at = now()
            FROM (SELECT customer_id, sum(amount) AS total FROM lapsed GROUP BY customer_id) l
            WHERE c.id = l.customer_id)
         SELECT saga_id, customer_id, amount FROM lapsed",
    )
    .fetch_all(pool)
    .await?;
    for (saga_id, customer_id, amount) in &lapsed {
        info!(%saga_id, %customer_id, %amount, "credit reservation lapsed");
    }
    Ok(lapsed.len() as u64)
}
