//! The one place where order-svc's errors become the API's error shape: one
//! `From` into `edge::error::ApiError` per error type of the use cases and
//! the domain, so that a handler answers any of them with `?`. A cause that
//! is not the caller's business becomes a 500 whose cause is logged
//! (`ApiError::internal`); a database that is down, a 503 (the edge's
//! `From<sqlx::Error>`).

use serde_json::{Map, Value, json};

use edge::error::ApiError;

use crate::{
    domain::{
        idempotency::{InvalidIdempotencyKey, MAX_LENGTH},
        pricing::PricingError,
        product::NotShopCurrency,
    },
    usecases::{CancelError, CatalogueError, CheckoutError, OrderLookupError, RepairError},
};

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::KeyReused(_) => ApiError::Unprocessable {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request".into(),
            },
            CheckoutError::Unpriceable(refusal) => ApiError::from(refusal),
            CheckoutError::Vanished(_) => ApiError::internal("recorded order vanished"),
            CheckoutError::Token(refused) => ApiError::internal(refused),
            CheckoutError::Stopped => ApiError::internal("the service is shutting down"),
            CheckoutError::Unavailable(cause) => {
                tracing::warn!(%cause, "checkout not recorded: the database is unavailable");
                ApiError::Unavailable(edge::error::DATABASE_UNAVAILABLE.into())
            }
            CheckoutError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<PricingError> for ApiError {
    fn from(error: PricingError) -> Self {
        match error {
            PricingError::NotOnSale(lines) => {
                let fields: Map<String, Value> = lines
                    .into_iter()
                    .map(|index| {
                        (
                            format!("items[{index}].product_id"),
                            json!("is not a product on sale (unknown or retired)"),
                        )
                    })
                    .collect();
                ApiError::Validation(Value::Object(fields))
            }
            PricingError::ForeignCurrency {
                product,
                currency,
                shop,
            } => ApiError::invalid_field(
                "items",
                format!(
                    "product {product} is priced in {currency}; this shop sells in {shop} only"
                ),
            ),
            PricingError::TotalTooLarge => {
                ApiError::invalid_field("items", "the order total is too large")
            }
        }
    }
}

impl From<InvalidIdempotencyKey> for ApiError {
    fn from(_: InvalidIdempotencyKey) -> Self {
        ApiError::invalid_field(
            "Idempotency-Key",
            format!("must be 1 to {MAX_LENGTH} printable ASCII characters"),
        )
    }
}

impl From<OrderLookupError> for ApiError {
    fn from(error: OrderLookupError) -> Self {
        match error {
            OrderLookupError::NotFound => ApiError::NotFound("order"),
            OrderLookupError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<CancelError> for ApiError {
    fn from(error: CancelError) -> Self {
        match error {
            CancelError::NotFound => ApiError::NotFound("order"),
            CancelError::NotCancellable(status) => ApiError::Conflict {
                code: "order_not_cancellable",
                message: format!("only a confirmed order can be cancelled; this one is {status}"),
            },
            CancelError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<CatalogueError> for ApiError {
    fn from(error: CatalogueError) -> Self {
        match error {
            CatalogueError::NotFound => ApiError::NotFound("product"),
            CatalogueError::SkuTaken => ApiError::Conflict {
                code: "sku_taken",
                message: "a product with this sku already exists".into(),
            },
            CatalogueError::NotShopCurrency(refusal) => ApiError::from(refusal),
            CatalogueError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<NotShopCurrency> for ApiError {
    fn from(NotShopCurrency { shop }: NotShopCurrency) -> Self {
        ApiError::invalid_field("currency", format!("this shop sells in {shop} only"))
    }
}

impl From<RepairError> for ApiError {
    fn from(error: RepairError) -> Self {
        let conflict = |code, error: &RepairError| ApiError::Conflict {
            code,
            message: error.to_string(),
        };
        match error {
            RepairError::NotFound => ApiError::NotFound("saga"),
            RepairError::Finished(_) => conflict("saga_finished", &error),
            RepairError::Compensating => conflict("saga_compensating", &error),
            RepairError::Busy => conflict("saga_busy", &error),
            RepairError::Db(cause) => ApiError::from(cause),
        }
    }
}

// Each error above, usable with `?` in a handler.
edge::rejected_as_api_error!(
    CheckoutError,
    InvalidIdempotencyKey,
    OrderLookupError,
    CancelError,
    CatalogueError,
    RepairError,
);
