//! Customer accounts: signing up (with the shop's default credit limit unless
//! one is given, and a password hashed if one is given), reading, searching,
//! changing and removing a customer. Who may do which (the admin, the customer
//! signed in) is decided at the edge, before these are called.

use contract::Money;
use edge::paging::Paging;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::customers::{self, CreateError, CustomerFilter, CustomerPatch, CustomerRow, UpdateError},
    domain::{CreditLimit, CustomerChanges, Email, NewCustomer, Password, ValueError},
};

/// What an account use case can run into.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No customer has this id.
    #[error("no such customer")]
    NotFound,
    /// Another customer has this email.
    #[error("a customer with email {0} already exists")]
    EmailTaken(Email),
    /// A new credit limit below the credit in use (given).
    #[error("the credit limit cannot be lower than the credit in use ({0})")]
    LimitBelowUsage(Decimal),
    /// `DEFAULT_CREDIT_LIMIT` is not a credit limit a customer may have.
    #[error("the default credit limit: {0}")]
    DefaultLimit(ValueError),
    /// Hashing a password failed.
    #[error("hashing a password failed: {0}")]
    PasswordHash(anyhow::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<CreateError> for AccountError {
    fn from(error: CreateError) -> Self {
        match error {
            CreateError::EmailTaken(email) => Self::EmailTaken(email),
            CreateError::Db(cause) => Self::Db(cause),
        }
    }
}

impl From<UpdateError> for AccountError {
    fn from(error: UpdateError) -> Self {
        match error {
            UpdateError::LimitBelowUsage(used) => Self::LimitBelowUsage(used),
            UpdateError::Db(cause) => Self::Db(cause),
        }
    }
}

/// The account use cases. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    default_credit_limit: Money,
}

impl Accounts {
    /// Accounts in `pool`; a customer signed up without a credit limit gets
    /// `default_credit_limit`.
    pub fn new(pool: PgPool, default_credit_limit: Money) -> Self {
        Self {
            pool,
            default_credit_limit,
        }
    }

    /// Creates a customer; with a password, an account that signs in.
    pub async fn sign_up(&self, new: NewCustomer) -> Result<CustomerRow, AccountError> {
        let credit_limit = match new.credit_limit {
            Some(limit) => limit,
            None => {
                CreditLimit::new(self.default_credit_limit).map_err(AccountError::DefaultLimit)?
            }
        };
        let password_hash = hash(new.password).await?;
        Ok(customers::insert(
            &self.pool,
            &new.email,
            &new.name,
            credit_limit,
            password_hash.as_deref(),
        )
        .await?)
    }

    /// One customer.
    pub async fn find(&self, id: Uuid) -> Result<CustomerRow, AccountError> {
        customers::get(&self.pool, id)
            .await?
            .ok_or(AccountError::NotFound)
    }

    /// One page of the customers `filter` matches, newest first, and how
    /// many match in all.
    pub async fn search(
        &self,
        filter: &CustomerFilter,
        paging: Paging,
    ) -> Result<(Vec<CustomerRow>, i64), AccountError> {
        Ok(customers::list(&self.pool, filter, paging.limit(), paging.offset()).await?)
    }

    /// Applies `changes` to the customer (a new password is hashed).
    pub async fn change(
        &self,
        id: Uuid,
        changes: CustomerChanges,
    ) -> Result<CustomerRow, AccountError> {
        let patch = CustomerPatch {
            name: changes.name,
            status: changes.status,
            credit_limit: changes.credit_limit,
            password_hash: hash(changes.password).await?,
        };
        customers::update(&self.pool, id, &patch)
            .await?
            .ok_or(AccountError::NotFound)
    }

    /// Removes the customer.
    pub async fn remove(&self, id: Uuid) -> Result<(), AccountError> {
        if customers::delete(&self.pool, id).await? {
            Ok(())
        } else {
            Err(AccountError::NotFound)
        }
    }
}

/// The hash of a password, when there is one.
async fn hash(password: Option<Password>) -> Result<Option<String>, AccountError> {
    match password {
        Some(password) => Ok(Some(
            password.hash().await.map_err(AccountError::PasswordHash)?,
        )),
        None => Ok(None),
    }
}
