//! Customers: create, read, search, change, remove.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::domain::{CreditLimit, CustomerStatus, Email, PersonName};

/// A customer as stored.
#[derive(Debug, Clone, FromRow)]
pub struct CustomerRow {
    /// Id.
    pub id: Uuid,
    /// Lower-cased email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `active` or `blocked`.
    pub status: String,
    /// Credit limit.
    pub credit_limit: Decimal,
    /// Credit held by sagas plus credit settled by confirmed orders.
    pub credit_used: Decimal,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What creating a customer can run into.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Another customer has this email (given).
    #[error("a customer with email {0} already exists")]
    EmailTaken(Email),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Creates a customer; with `password_hash`, an account that signs in.
pub async fn insert(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    credit_limit: CreditLimit,
    password_hash: Option<&str>,
) -> Result<CustomerRow, CreateError> {
    sqlx::query_as(
        "INSERT INTO customers (id, email, name, credit_limit, password_hash)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(email.as_str())
    .bind(name.as_str())
    .bind(credit_limit.amount())
    .bind(password_hash)
    .fetch_one(pool)
    .await
    .map_err(|error| {
        if super::violates(&error, "customers_email_key") {
            CreateError::EmailTaken(email.clone())
        } else {
            CreateError::Db(error)
        }
    })
}

/// One customer.
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<CustomerRow>> {
    sqlx::query_as("SELECT * FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// What signing in checks.
#[derive(FromRow)]
pub struct Credentials {
    /// The customer.
    pub id: Uuid,
    /// Their email.
    pub email: String,
    /// The argon2 hash; `None` for a guest, who cannot sign in.
    pub password_hash: Option<String>,
}

/// The credentials of the customer with `email`, if there is one.
pub async fn credentials(pool: &PgPool, email: &Email) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as("SELECT id, email, password_hash FROM customers WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
}

/// Filters of the customer list.
#[derive(Debug, Default)]
pub struct CustomerFilter {
    /// Part of the name or email, case-insensitive.
    pub q: Option<String>,
    /// Exact email (normalised).
    pub email: Option<Email>,
}

/// One page of customers, newest first, and how many match in all.
pub async fn list(
    pool: &PgPool,
    filter: &CustomerFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<CustomerRow>, i64)> {
    let mut tx = super::snapshot(pool).await?;
    let pattern = filter.q.as_deref().map(super::like_pattern);
    let email = filter.email.as_ref().map(Email::as_str);
    const WHERE: &str = "($1::text IS NULL OR email = $1)
        AND ($2::text IS NULL OR lower(name) LIKE $2 ESCAPE '\\' OR email LIKE $2 ESCAPE '\\')";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM customers WHERE {WHERE}"
    )))
    .bind(email)
    .bind(&pattern)
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM customers WHERE {WHERE} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
    )))
    .bind(email)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    Ok((rows, total))
}

/// A change to a customer; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct CustomerPatch {
    /// New name.
    pub name: Option<PersonName>,
    /// New status.
    pub status: Option<CustomerStatus>,
    /// New credit limit.
    pub credit_limit: Option<CreditLimit>,
    /// New password, hashed (makes a guest an account).
    pub password_hash: Option<String>,
}

/// What changing a customer can run into.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The new limit is below the credit already in use.
    #[error("the credit limit cannot be lower than the credit in use ({0})")]
    LimitBelowUsage(Decimal),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Applies a patch; `None` when the customer does not exist.
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    patch: &CustomerPatch,
) -> Result<Option<CustomerRow>, UpdateError> {
    let updated = sqlx::query_as(
        "UPDATE customers SET
            name = coalesce($2, name),
            status = coalesce($3, status),
            credit_limit = coalesce($4, credit_limit),
            password_hash = coalesce($5, password_hash),
            updated_at = now()
         WHERE id = $1 AND ($4::numeric IS NULL OR $4 >= credit_used)
         RETURNING *",
    )
    .bind(id)
    .bind(patch.name.as_ref().map(PersonName::as_str))
    .bind(patch.status.map(CustomerStatus::as_str))
    .bind(patch.credit_limit.map(CreditLimit::amount))
    .bind(patch.password_hash.as_deref())
    .fetch_optional(pool)
    .await;
    match updated? {
        Some(row) => Ok(Some(row)),
        // Not there, or a new limit below the credit in use (refused by the
        // update's condition, under the row's lock).
        None => match get(pool, id).await? {
            None => Ok(None),
            Some(current) => Err(UpdateError::LimitBelowUsage(current.credit_used)),
        },
    }
}

/// Removes a customer; false when there was none.
pub async fn delete(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM customers WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}
