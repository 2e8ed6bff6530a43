//! Giving a saga's credit back: `customer.release_credit` (the saga
//! compensates) and a cancellation (which also gives back what a confirmed
//! order settled). A release that finds no reservation leaves a `released`
//! row behind, which fences a reserve that arrives later.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use tracing::info;
use uuid::Uuid;

use contract::Money;

use super::reservation::{RACE_ATTEMPTS, lost_race_or_duplicate_saga, reservation_for_update};

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
    let customer_id = if gives_back {
        Some(reservation.holder()?)
    } else {
        None
    };
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
