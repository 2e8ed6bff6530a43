//! Pricing a checkout from the catalogue, never from the request: every
//! line at its product's current price, in the shop's one currency, or the
//! reason it cannot be priced.

use rust_decimal::Decimal;
use uuid::Uuid;

use contract::{Currency, Money};

use super::checkout::CheckoutRequest;

/// A line priced from the catalogue, ready to record.
#[derive(Debug, Clone)]
pub struct PricedLine {
    /// The product.
    pub product_id: Uuid,
    /// Its sku.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Its current price.
    pub unit_price: Decimal,
}

/// A checkout's lines priced from the catalogue.
#[derive(Debug, Clone)]
pub struct Priced {
    /// The lines, in the request's order.
    pub lines: Vec<PricedLine>,
    /// Their currency.
    pub currency: Currency,
    /// The order's total.
    pub total: Money,
}

/// What pricing needs to know of a product on sale.
pub trait CatalogueEntry {
    /// Its id.
    fn id(&self) -> Uuid;
    /// Its sku.
    fn sku(&self) -> &str;
    /// Its name.
    fn name(&self) -> &str;
    /// Its price.
    fn price(&self) -> Decimal;
    /// Its currency.
    fn currency(&self) -> &str;
}

/// Why a checkout cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// These lines (by their place in the request) ask for products that
    /// are not on sale: unknown, or retired.
    #[error("lines {0:?} ask for products that are not on sale")]
    NotOnSale(Vec<usize>),
    /// A product is priced in another currency than the shop's.
    #[error("product {product} is priced in {currency}; this shop sells in {shop} only")]
    ForeignCurrency {
        /// The product.
        product: Uuid,
        /// Its currency.
        currency: String,
        /// The shop's.
        shop: Currency,
    },
    /// The total is more than an amount can be.
    #[error("the order total is too large")]
    TotalTooLarge,
}

impl CheckoutRequest {
    /// Prices every line from `catalogue` (the products on sale among those
    /// asked for; never from the request): unknown or retired products, a
    /// product priced in another currency than the shop's, or an absurd
    /// total are refused.
    pub fn price<P: CatalogueEntry>(
        &self,
        catalogue: &[P],
        shop: &Currency,
    ) -> Result<Priced, PricingError> {
        let mut not_on_sale = Vec::new();
        let mut lines = Vec::with_capacity(self.lines.len());
        for (index, line) in self.lines.iter().enumerate() {
            match catalogue.iter().find(|p| p.id() == line.product_id) {
                Some(product) => lines.push(PricedLine {
                    product_id: product.id(),
                    sku: product.sku().to_owned(),
                    name: product.name().to_owned(),
                    quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                    unit_price: product.price(),
                }),
                None => not_on_sale.push(index),
            }
        }
        if !not_on_sale.is_empty() {
            return Err(PricingError::NotOnSale(not_on_sale));
        }
        if let Some(other) = catalogue.iter().find(|p| p.currency() != shop.as_str()) {
            return Err(PricingError::ForeignCurrency {
                product: other.id(),
                currency: other.currency().to_owned(),
                shop: shop.clone(),
            });
        }
        let currency = shop.clone();
        let total: Decimal = lines
            .iter()
            .map(|l| l.unit_price * Decimal::from(l.quantity))
            .sum();
        let total = Money::new(total).map_err(|_| PricingError::TotalTooLarge)?;
        Ok(Priced {
            lines,
            currency,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Product {
        id: Uuid,
        price: Decimal,
        currency: &'static str,
    }

    impl CatalogueEntry for Product {
        fn id(&self) -> Uuid {
            self.id
        }
        fn sku(&self) -> &str {
            "SKU"
        }
        fn name(&self) -> &str {
            "Thing"
        }
        fn price(&self) -> Decimal {
            self.price
        }
        fn currency(&self) -> &str {
            self.currency
        }
    }

    fn request(lines: &[(Uuid, u32)]) -> CheckoutRequest {
        let items: Vec<_> = lines
            .iter()
            .map(|(id, quantity)| json!({"product_id": id, "quantity": quantity}))
            .collect();
        let body = json!({"customer": {"email": "a@b.co", "name": "A"}, "items": items});
        CheckoutRequest::parse(body.as_object().unwrap()).unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn lines_are_priced_from_the_catalogue() {
        let id = Uuid::new_v4();
        let catalogue = [Product {
            id,
            price: Decimal::new(250, 2),
            currency: "EUR",
        }];
        let priced = request(&[(id, 3)]).price(&catalogue, &eur()).unwrap();
        assert_eq!(priced.total.amount(), Decimal::new(750, 2));
        assert_eq!(priced.lines[0].quantity, 3);
    }

    #[test]
    fn every_line_not_on_sale_is_named_by_its_place() {
        let (known, gone, retired) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let catalogue = [Product {
            id: known,
            price: Decimal::ONE,
            currency: "EUR",
        }];
        let refused = request(&[(gone, 1), (known, 1), (retired, 1)]).price(&catalogue, &eur());
        assert_eq!(refused.unwrap_err(), PricingError::NotOnSale(vec![0, 2]));
    }

    #[test]
    fn a_product_in_another_currency_is_refused() {
        let id = Uuid::new_v4();
        let catalogue = [Product {
            id,
            price: Decimal::ONE,
            currency: "USD",
        }];
        let refused = request(&[(id, 1)]).price(&catalogue, &eur()).unwrap_err();
        assert!(matches!(
            refused,
            PricingError::ForeignCurrency { product, .. } if product == id
        ));
    }
}
