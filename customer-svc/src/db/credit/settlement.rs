//! Settling reservations from `order.confirmed`: a confirmed order is a real
//! debt, so its credit is taken even when the reservation lapsed or never
//! existed, over the limit if need be. What went over the limit is counted
//! once the settlement is committed ([`Overdrafts::record`]).

use rust_decimal::{Decimal, prelude::ToPrimitive};
use sqlx::PgConnection;
use tracing::warn;
use uuid::Uuid;

use contract::OrderConfirmed;

use super::reservation::{ReservationOfSaga, reservation_for_update};

/// The overdrafts a settlement caused: each the amount a charge took past
/// the customer's limit. Recorded only once the transaction is committed,
/// so that a settlement tried again is not counted twice.
#[derive(Debug, Default)]
#[must_use = "record the overdrafts once the settlement is committed"]
pub(crate) struct Overdrafts(Vec<Decimal>);

impl Overdrafts {
    /// Registers the overdraft series at zero, so that they exist from the start.
    pub(crate) fn register() {
        metrics::counter!("credit_overdrafts_total").increment(0);
        let _ = metrics::histogram!("credit_overdraft_amount");
    }

    /// Counts them: `credit_overdrafts_total`, and each amount in
    /// `credit_overdraft_amount` (its `_sum` the total overdrawn).
    pub(crate) fn record(self) {
        for over in self.0 {
            metrics::counter!("credit_overdrafts_total").increment(1);
            metrics::histogram!("credit_overdraft_amount")
                .record(over.to_f64().unwrap_or_default());
        }
    }
}

/// Settles the reservations of confirmed orders, inside `tx`: held ones in
/// one statement, the rare others (lapsed, missing) one by one.
pub(crate) async fn settle_all(
    tx: &mut PgConnection,
    confirmed: &[&OrderConfirmed],
) -> sqlx::Result<Overdrafts> {
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
    let mut overdrafts = Overdrafts::default();
    for event in by_customer {
        let state = found
            .iter()
            .find(|row| row.saga_id == event.saga_id)
            .map(|row| row.reservation.state.as_str());
        if matches!(state, None | Some("lapsed")) {
            let over = settle(
                tx,
                event.saga_id,
                event.customer_id,
                event.total.amount(),
                event.currency.as_str(),
            )
            .await?;
            overdrafts.0.extend(over);
        }
    }
    Ok(overdrafts)
}

/// Settles the saga's reservation for a confirmed order, inside `tx`; the
/// amount it took past the limit, if any.
async fn settle(
    tx: &mut PgConnection,
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
    currency: &str,
) -> sqlx::Result<Option<Decimal>> {
    let Some(reservation) = reservation_for_update(tx, saga_id).await? else {
        // No reservation at all (for example a restored database): the order
        // is confirmed, so its credit is taken now, over the limit if need be.
        let over = charge(tx, saga_id, customer_id, amount).await?;
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
        return Ok(over);
    };
    let (settle, over) = match reservation.state.as_str() {
        "held" => (true, None),
        "lapsed" => {
            // Its lease ran out before the confirmation arrived: the order is
            // confirmed all the same, so its credit is taken again, over the
            // limit if it was spent meanwhile.
            let over = charge(tx, saga_id, customer_id, reservation.amount).await?;
            (true, over)
        }
        // Settled already, released by a cancellation that overtook this
        // confirmation, or refused: nothing to settle.
        _ => (false, None),
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
    Ok(over)
}

/// Takes `amount` of the customer's credit for a confirmed order, even past
/// the limit: the debt is real. Going over shows as the customer's
/// `overdraft`; the part of `amount` past the limit is returned, to be
/// counted ([`Overdrafts`]).
async fn charge(
    tx: &mut PgConnection,
    saga_id: Uuid,
    customer_id: Uuid,
    amount: Decimal,
) -> sqlx::Result<Option<Decimal>> {
    let over: Option<Decimal> = sqlx::query_scalar(
        "UPDATE customers SET credit_used = credit_used + $2, updated_at = now()
         WHERE id = $1 RETURNING greatest(credit_used - credit_limit, 0)",
    )
    .bind(customer_id)
    .bind(amount)
    .fetch_optional(tx)
    .await?;
    let Some(over) = over.filter(|over| *over > Decimal::ZERO) else {
        return Ok(None);
    };
    warn!(%saga_id, %customer_id, %amount, %over, "a confirmed order took the customer over the credit limit");
    // Past the limit by `over` in all: this charge's part of it (the
    // customer may have been over already).
    Ok(Some(over.min(amount)))
}
