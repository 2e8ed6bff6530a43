//! Whether each order of a batch fits in the stock, decided in memory in
//! the order given, all or nothing per order; no I/O, tested case by case.

use std::collections::{HashMap, HashSet};

use sqlx::FromRow;
use uuid::Uuid;

/// A line of an order, as step 3 needs it.
#[derive(Debug, Clone, FromRow)]
pub(super) struct Line {
    pub(super) order_id: Uuid,
    pub(super) product_id: Uuid,
    pub(super) sku: String,
    pub(super) quantity: i32,
}

/// A product's stock, as locked by step 3.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stock {
    pub(super) units: i32,
    pub(super) active: bool,
}

/// Whether an order's lines fit in the stock.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Allocation {
    /// Every line fits; its units are taken.
    Fits,
    /// Some lines do not; nothing is taken. In words, line by line.
    Short(String),
}

/// Decides, order by order in the order given, whether all of an order's
/// lines fit in what `stock` has left, and takes their units when they do
/// (all or nothing per order). A product missing from `stock` is no longer
/// sold.
pub(super) fn allocate(stock: &mut HashMap<Uuid, Stock>, orders: &[Vec<&Line>]) -> Vec<Allocation> {
    orders
        .iter()
        .map(|lines| {
            let mut wanted: HashMap<Uuid, i32> = HashMap::new();
            for line in lines {
                *wanted.entry(line.product_id).or_default() += line.quantity;
            }
            // One word per product, at its first line, about all its lines.
            let mut seen = HashSet::new();
            let shortages: Vec<String> = lines
                .iter()
                .filter(|line| seen.insert(line.product_id))
                .filter_map(|line| {
                    let total = wanted
                        .get(&line.product_id)
                        .copied()
                        .unwrap_or(line.quantity);
                    match stock.get(&line.product_id) {
                        Some(product) if !product.active => {
                            Some(format!("{}: no longer sold", line.sku))
                        }
                        Some(product) if product.units >= total => None,
                        Some(product) => Some(format!(
                            "{}: {total} wanted, {} in stock",
                            line.sku, product.units
                        )),
                        None => Some(format!("{}: no longer sold", line.sku)),
                    }
                })
                .collect();
            if !shortages.is_empty() {
                return Allocation::Short(shortages.join("; "));
            }
            for (product_id, units) in wanted {
                if let Some(product) = stock.get_mut(&product_id) {
                    product.units -= units;
                }
            }
            Allocation::Fits
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: Uuid, sku: &str, quantity: i32) -> Line {
        Line {
            order_id: Uuid::nil(),
            product_id,
            sku: sku.to_owned(),
            quantity,
        }
    }

    fn stock_of(entries: &[(Uuid, i32, bool)]) -> HashMap<Uuid, Stock> {
        entries
            .iter()
            .map(|&(id, units, active)| (id, Stock { units, active }))
            .collect()
    }

    #[test]
    fn orders_are_served_in_the_order_given_until_the_stock_runs_out() {
        let hot = Uuid::new_v4();
        let mut stock = stock_of(&[(hot, 5, true)]);
        let (two, three, one) = (
            line(hot, "HOT", 2),
            line(hot, "HOT", 3),
            line(hot, "HOT", 1),
        );
        let outcome = allocate(&mut stock, &[vec![&two], vec![&three], vec![&one]]);
        assert_eq!(
            outcome,
            [
                Allocation::Fits,
                Allocation::Fits,
                Allocation::Short("HOT: 1 wanted, 0 in stock".to_owned())
            ]
        );
        assert_eq!(stock[&hot].units, 0);
    }

    #[test]
    fn an_order_is_all_or_nothing() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut stock = stock_of(&[(a, 10, true), (b, 1, true)]);
        let (lots_of_a, two_b) = (line(a, "A", 4), line(b, "B", 2));
        let outcome = allocate(&mut stock, &[vec![&lots_of_a, &two_b]]);
        assert_eq!(
            outcome,
            [Allocation::Short("B: 2 wanted, 1 in stock".to_owned())]
        );
        assert_eq!((stock[&a].units, stock[&b].units), (10, 1), "nothing taken");
    }

    #[test]
    fn a_product_on_two_lines_is_counted_once_in_full() {
        let a = Uuid::new_v4();
        let mut stock = stock_of(&[(a, 3, true)]);
        let (first, second) = (line(a, "A", 2), line(a, "A", 2));
        let outcome = allocate(&mut stock, &[vec![&first, &second]]);
        assert_eq!(
            outcome,
            [Allocation::Short("A: 4 wanted, 3 in stock".to_owned())]
        );
        assert_eq!(stock[&a].units, 3);
    }

    #[test]
    fn inactive_and_unknown_products_are_no_longer_sold() {
        let (retired, gone) = (Uuid::new_v4(), Uuid::new_v4());
        let mut stock = stock_of(&[(retired, 100, false)]);
        let (old, missing) = (line(retired, "OLD", 1), line(gone, "GONE", 1));
        let outcome = allocate(&mut stock, &[vec![&old, &missing]]);
        assert_eq!(
            outcome,
            [Allocation::Short(
                "OLD: no longer sold; GONE: no longer sold".to_owned()
            )]
        );
    }
}
