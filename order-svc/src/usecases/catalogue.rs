//! The catalogue: the products on sale, their categories, one product; and
//! creating, changing and retiring products. One shop, one currency: a
//! product priced in another is refused.

use sqlx::PgPool;
use uuid::Uuid;

use contract::Currency;
use edge::paging::Paging;

use crate::{
    db::products::{self, ProductFilter, ProductRow, WriteError},
    domain::product::{NotShopCurrency, ProductFields, ProductPatch},
};

/// Reads and changes the catalogue. Cheap to clone.
#[derive(Clone)]
pub struct Catalogue {
    pool: PgPool,
    shop: Currency,
}

/// Why the catalogue was not read or changed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// There is no such product.
    #[error("no such product")]
    NotFound,
    /// Another product has this sku.
    #[error("a product with this sku already exists")]
    SkuTaken,
    /// The product is priced in another currency than the shop's.
    #[error(transparent)]
    NotShopCurrency(#[from] NotShopCurrency),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<WriteError> for CatalogueError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::SkuTaken => Self::SkuTaken,
            WriteError::Db(cause) => Self::Db(cause),
        }
    }
}

impl Catalogue {
    /// The catalogue in `pool`, of a shop that sells in `shop`.
    pub fn new(pool: PgPool, shop: Currency) -> Self {
        Self { pool, shop }
    }

    /// One page of the products on sale that `filter` lets through (by
    /// category, then name); and how many there are in all.
    pub async fn page(
        &self,
        filter: &ProductFilter,
        paging: Paging,
    ) -> Result<(Vec<ProductRow>, i64), CatalogueError> {
        Ok(products::list(&self.pool, filter, paging.limit(), paging.offset()).await?)
    }

    /// The categories of the products on sale, sorted.
    pub async fn categories(&self) -> Result<Vec<String>, CatalogueError> {
        Ok(products::categories(&self.pool).await?)
    }

    /// The product `id`, on sale or retired.
    pub async fn product(&self, id: Uuid) -> Result<ProductRow, CatalogueError> {
        products::get(&self.pool, id)
            .await?
            .ok_or(CatalogueError::NotFound)
    }

    /// Creates a product.
    pub async fn create(&self, fields: ProductFields) -> Result<ProductRow, CatalogueError> {
        let fields = fields.sold_in(&self.shop)?;
        Ok(products::insert(&self.pool, &fields).await?)
    }

    /// Changes the product `id` as `patch` says.
    pub async fn update(
        &self,
        id: Uuid,
        patch: ProductPatch,
    ) -> Result<ProductRow, CatalogueError> {
        let patch = patch.sold_in(&self.shop)?;
        products::update(&self.pool, id, &patch)
            .await?
            .ok_or(CatalogueError::NotFound)
    }

    /// Retires the product `id`: no longer listed or sold; past orders keep it.
    pub async fn retire(&self, id: Uuid) -> Result<(), CatalogueError> {
        if products::retire(&self.pool, id).await? {
            Ok(())
        } else {
            Err(CatalogueError::NotFound)
        }
    }
}
