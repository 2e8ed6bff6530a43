//! The lapse of held reservations whose lease ran out: a saga that no
//! `order.confirmed` settles in time must not hold a customer's credit for
//! ever. Run by the periodic sweep.

use rust_decimal::Decimal;
use sqlx::PgPool;
use tracing::info;
use uuid::Uuid;

use super::lock_order::lock_in_order;

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
