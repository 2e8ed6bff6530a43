//! `?page=&per_page=` and the paged list shape `{"items", "page", "per_page", "total"}`.

use std::collections::HashMap;

use serde::Serialize;

use super::error::ApiError;

/// Largest page a caller may ask for.
pub const MAX_PER_PAGE: u32 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: u32,
    /// Items per page, 1 to 100.
    pub per_page: u32,
}

impl Paging {
    /// Reads `page` (default 1) and `per_page` (default 20) from a query.
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let number = |name: &str, default: u32, max: u32| match query.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_field(name, format!("must be a whole number from 1 to {max}"))
                }),
        };
        Ok(Self {
            page: number("page", 1, 1_000_000)?,
            per_page: number("per_page", 20, MAX_PER_PAGE)?,
        })
    }

    /// SQL `LIMIT`.
    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// SQL `OFFSET`.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// Page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Items in all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// A page of `items` out of `total`.
    pub fn new(items: Vec<T>, paging: Paging, total: i64) -> Self {
        Self {
            items,
            page: paging.page,
            per_page: paging.per_page,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn defaults_and_bounds() {
        let paging = Paging::from_query(&query(&[])).unwrap();
        assert_eq!((paging.page, paging.per_page), (1, 20));
        let paging = Paging::from_query(&query(&[("page", "3"), ("per_page", "100")])).unwrap();
        assert_eq!((paging.limit(), paging.offset()), (100, 200));
        assert!(Paging::from_query(&query(&[("per_page", "101")])).is_err());
        assert!(Paging::from_query(&query(&[("page", "0")])).is_err());
        assert!(Paging::from_query(&query(&[("page", "x")])).is_err());
    }
}
