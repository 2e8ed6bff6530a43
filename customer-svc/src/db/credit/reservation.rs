//! A saga's reservation as stored, read under its lock, and the answer it
//! stands for: what every writer of reservations reads before it decides.
//! Also when such a writer runs again (a race lost to another writer of the
//! same saga).

use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use contract::{RefusalReason, VerifyOrCreateReply};

use crate::db;

/// Attempts of a transaction that lost a race before giving up.
pub(super) const RACE_ATTEMPTS: u32 = 5;

/// A concurrent delivery of the same saga inserted its reservation first: run
/// again and answer what that one decided.
pub(super) fn lost_race_or_duplicate_saga(error: &sqlx::Error) -> bool {
    db::lost_a_race(error) || db::violates(error, "credit_reservations_pkey")
}

/// A reservation with the saga it belongs to.
#[derive(Debug, FromRow)]
pub(super) struct ReservationOfSaga {
    pub(super) saga_id: Uuid,
    #[sqlx(flatten)]
    pub(super) reservation: Reservation,
}

/// A saga's reservation.
#[derive(Debug, FromRow)]
pub(super) struct Reservation {
    pub(super) customer_id: Option<Uuid>,
    pub(super) amount: Decimal,
    pub(super) state: String,
    pub(super) refusal_reason: Option<String>,
}

impl Reservation {
    /// The answer this saga was (or would now be) given. A row that cannot
    /// be one (a hold with no customer, a refusal with no reason or one this
    /// contract does not name) is an error, not a guess.
    pub(super) fn reply(&self) -> sqlx::Result<VerifyOrCreateReply> {
        let refused = |reason| VerifyOrCreateReply::Refused {
            customer_id: self.customer_id.and_then(|id| refused_customer(reason, id)),
            reason,
        };
        Ok(match self.state.as_str() {
            "held" | "settled" => VerifyOrCreateReply::Reserved {
                customer_id: self.holder()?,
            },
            "refused" => {
                let stored = self.refusal_reason.as_deref().ok_or_else(|| {
                    broken_row("a refused reservation has no refusal reason".into())
                })?;
                refused(
                    RefusalReason::parse(stored)
                        .ok_or_else(|| broken_row(format!("unknown refusal reason {stored:?}")))?,
                )
            }
            "released" | "lapsed" => refused(RefusalReason::SagaReleased),
            other => return Err(broken_row(format!("unknown reservation state {other:?}"))),
        })
    }

    /// The customer whose credit this reservation holds (or settled).
    pub(super) fn holder(&self) -> sqlx::Result<Uuid> {
        self.customer_id.ok_or_else(|| {
            broken_row(format!(
                "a {} reservation of {} names no customer",
                self.state, self.amount
            ))
        })
    }
}

/// A stored reservation that breaks the rules every writer keeps.
fn broken_row(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

/// The customer a refusal names: none for `sign_in_required`, whose caller
/// has not shown they are that customer (the account's id is not theirs to
/// learn, nor the rejected order theirs to file under it).
pub(super) fn refused_customer(reason: RefusalReason, customer_id: Uuid) -> Option<Uuid> {
    (reason != RefusalReason::SignInRequired).then_some(customer_id)
}

/// The saga's reservation, locked for the rest of `tx`.
pub(super) async fn reservation_for_update(
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
