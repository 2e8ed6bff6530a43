//! The cart: lines of products and quantities, kept in the browser's local
//! storage so that it survives a reload. Prices are shown from the catalogue;
//! the order's real prices always come from the server.

use std::str::FromStr;

use contract::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::api::Product;

/// Most units of one product in one order (as the server enforces).
pub const MAX_QUANTITY: u32 = 1000;
/// Most lines in one order (as the server enforces).
pub const MAX_LINES: usize = 50;

/// One product in the cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: String,
    pub name: String,
    pub unit_price: String,
    pub currency: Currency,
    pub quantity: u32,
}

/// The cart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

impl Cart {
    /// Adds one unit of `product` (a new line, or one more on its line).
    pub fn add(&mut self, product: &Product) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.product_id == product.id) {
            line.quantity = (line.quantity + 1).min(MAX_QUANTITY);
        } else if self.lines.len() < MAX_LINES {
            self.lines.push(CartLine {
                product_id: product.id.clone(),
                name: product.name.clone(),
                unit_price: product.price.clone(),
                currency: product.currency.clone(),
                quantity: 1,
            });
        }
    }

    /// Sets a line's quantity, within 1 to 1000.
    pub fn set_quantity(&mut self, product_id: &str, quantity: u32) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.product_id == product_id) {
            line.quantity = quantity.clamp(1, MAX_QUANTITY);
        }
    }

    /// Takes a line out.
    pub fn remove(&mut self, product_id: &str) {
        self.lines.retain(|l| l.product_id != product_id);
    }

    /// Units in the cart.
    pub fn count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// The total at catalogue prices, with two places.
    pub fn total(&self) -> String {
        let total: Decimal = self
            .lines
            .iter()
            .map(|l| {
                Decimal::from_str(&l.unit_price).unwrap_or_default() * Decimal::from(l.quantity)
            })
            .sum();
        format!("{total:.2}")
    }

    /// The currency of the lines (none for an empty cart).
    pub fn currency(&self) -> Option<Currency> {
        self.lines.first().map(|l| l.currency.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, price: &str) -> Product {
        Product {
            id: id.into(),
            sku: id.into(),
            name: id.into(),
            description: String::new(),
            price: price.into(),
            currency: Currency::default(),
            stock: 5,
            category: "c".into(),
            image_url: None,
        }
    }

    #[test]
    fn adding_counts_and_totals() {
        let mut cart = Cart::default();
        cart.add(&product("a", "12.50"));
        cart.add(&product("a", "12.50"));
        cart.add(&product("b", "0.10"));
        assert_eq!(cart.count(), 3);
        assert_eq!(cart.total(), "25.10");
        cart.set_quantity("b", 0);
        assert_eq!(cart.count(), 3, "at least one");
        cart.set_quantity("b", 5000);
        assert_eq!(cart.lines[1].quantity, MAX_QUANTITY);
        cart.remove("a");
        assert_eq!(cart.lines.len(), 1);
    }
}
