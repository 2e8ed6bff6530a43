//! The catalogue: public reads of active products, admin writes.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::domain::product::{ProductFields, ProductPatch};

/// A product as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    /// Id.
    pub id: Uuid,
    /// Unique sku.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Current price.
    pub price: Decimal,
    /// Currency of the price.
    pub currency: String,
    /// Units in stock.
    pub stock: i32,
    /// Category.
    pub category: String,
    /// Image URL or path.
    pub image_url: Option<String>,
    /// False once retired.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What writing a product can run into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Another product has this sku.
    #[error("a product with this sku already exists")]
    SkuTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn write_error(error: sqlx::Error) -> WriteError {
    if super::violates(&error, "products_sku_key") {
        WriteError::SkuTaken
    } else {
        WriteError::Db(error)
    }
}

/// Filters of the public product list.
#[derive(Debug, Default)]
pub struct ProductFilter {
    /// Part of the name or sku, case-insensitive.
    pub q: Option<String>,
    /// Exact category.
    pub category: Option<String>,
}

const LIST_WHERE: &str = "active
    AND ($1::text IS NULL OR lower(name) LIKE $1 ESCAPE '\\' OR lower(sku) LIKE $1 ESCAPE '\\')
    AND ($2::text IS NULL OR category = $2)";

/// One page of active products (by category, then name), and how many match.
pub async fn list(
    pool: &PgPool,
    filter: &ProductFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ProductRow>, i64)> {
    let mut tx = super::snapshot(pool).await?;
    let pattern = filter.q.as_deref().map(super::like_pattern);
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM products WHERE {LIST_WHERE}"
    )))
    .bind(&pattern)
    .bind(&filter.category)
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM products WHERE {LIST_WHERE} ORDER BY category, name, id LIMIT $3 OFFSET $4"
    )))
    .bind(&pattern)
    .bind(&filter.category)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    Ok((rows, total))
}

/// The categories that have active products, sorted.
pub async fn categories(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT category FROM products WHERE active ORDER BY category")
        .fetch_all(pool)
        .await
}

/// One product, retired or not.
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as("SELECT * FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Creates a product.
pub async fn insert(pool: &PgPool, fields: &ProductFields) -> Result<ProductRow, WriteError> {
    sqlx::query_as(
        "INSERT INTO products
            (id, sku, name, description, price, currency, stock, category, image_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(&fields.sku)
    .bind(&fields.name)
    .bind(&fields.description)
    .bind(fields.price.amount())
    .bind(&fields.currency)
    .bind(fields.stock)
    .bind(&fields.category)
    .bind(&fields.image_url)
    .fetch_one(pool)
    .await
    .map_err(write_error)
}

/// Applies a patch; `None` when there is no such product.
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    patch: &ProductPatch,
) -> Result<Option<ProductRow>, WriteError> {
    sqlx::query_as(
        "UPDATE products SET
            sku = coalesce($2, sku),
            name = coalesce($3, name),
            description = coalesce($4, description),
            price = coalesce($5, price),
            currency = coalesce($6, currency),
            stock = coalesce($7, stock),
            category = coalesce($8, category),
            image_url = CASE WHEN $9 THEN $10 ELSE image_url END,
            updated_at = now()
         WHERE id = $1
         RETURNING *",
    )
    .bind(id)
    .bind(&patch.sku)
    .bind(&patch.name)
    .bind(&patch.description)
    .bind(patch.price.map(|p| p.amount()))
    .bind(&patch.currency)
    .bind(patch.stock)
    .bind(&patch.category)
    .bind(patch.image_url.is_some())
    .bind(patch.image_url.clone().flatten())
    .fetch_optional(pool)
    .await
    .map_err(write_error)
}

/// Retires a product: no longer listed or orderable; past orders keep it.
/// False when there is no such product.
pub async fn retire(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let retired =
        sqlx::query("UPDATE products SET active = false, updated_at = now() WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected();
    Ok(retired == 1)
}

impl crate::domain::pricing::CatalogueEntry for ProductRow {
    fn id(&self) -> Uuid {
        self.id
    }

    fn sku(&self) -> &str {
        &self.sku
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn price(&self) -> Decimal {
        self.price
    }

    fn currency(&self) -> &str {
        &self.currency
    }
}
