//! The service's one lock order, taken up front by the writers that touch
//! many sagas and customers at once (event batches, the lapse sweep), so that
//! no two writers ever wait on each other in a circle.

use std::collections::HashSet;

use sqlx::PgConnection;
use uuid::Uuid;

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
