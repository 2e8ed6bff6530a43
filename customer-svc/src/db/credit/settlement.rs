//! Settling reservations from `order.confirmed`: a confirmed order is a real
//! debt, so its credit is taken even when the reservation lapsed or never
//! existed, over the limit if need be.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tracing::warn;
use uuid::Uuid;

use contract::OrderConfirmed;

use super::reservation::{ReservationOfSaga, reservation_for_update};

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
