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
    /// Reads `page` (default 1) and `per_page` (default 20) from a query:
    /// plain decimal digits, as the number is written (`"+5"`, `"05"` or a
    /// thousand leading zeros are refused, as `u32`'s parser would read them).
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let number = |name: &str, default: u32, max: u32| match query.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n) && n.to_string() == *raw)
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
        // Found by the property tests: `u32` reads a sign and leading zeros.
        assert!(Paging::from_query(&query(&[("page", "+2")])).is_err());
        assert!(Paging::from_query(&query(&[("per_page", "020")])).is_err());
    }
}

#[cfg(test)]
mod props {
    //! Paging on hostile query strings: within bounds when accepted, refused
    //! with the parameter named otherwise.

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use testkit::hostile::{config, hostile_text};

    /// What a client may put in `page` or `per_page`.
    fn number_text() -> impl Strategy<Value = String> {
        prop_oneof![
            hostile_text(),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            "[-+ 0]{0,3}[0-9]{1,12}[ .e0-9]{0,3}",
            (0_usize..5000).prop_map(|zeros| format!("{}1", "0".repeat(zeros))),
        ]
    }

    fn named(error: &ApiError) -> Vec<String> {
        match error {
            ApiError::Validation(Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn accepted_paging_is_within_bounds_and_written_as_given(
            page in prop::option::of(number_text()),
            per_page in prop::option::of(number_text()),
        ) {
            let mut query = HashMap::new();
            query.extend(page.clone().map(|p| ("page".to_owned(), p)));
            query.extend(per_page.clone().map(|p| ("per_page".to_owned(), p)));
            match Paging::from_query(&query) {
                Ok(paging) => {
                    prop_assert!((1..=1_000_000).contains(&paging.page));
                    prop_assert!((1..=MAX_PER_PAGE).contains(&paging.per_page));
                    prop_assert_eq!(paging.offset(), i64::from(paging.page - 1) * paging.limit());
                    prop_assert_eq!(page.unwrap_or_else(|| "1".into()), paging.page.to_string());
                    prop_assert_eq!(per_page.unwrap_or_else(|| "20".into()), paging.per_page.to_string());
                }
                Err(refused) => {
                    let fields = named(&refused);
                    prop_assert!(
                        fields == ["page"] || fields == ["per_page"],
                        "{:?} names {:?}", query, fields
                    );
                }
            }
        }

        #[test]
        fn every_page_in_bounds_is_accepted_and_every_other_form_refused(
            page in 1_u32..=1_000_000,
            per_page in 1_u32..=MAX_PER_PAGE,
            form in 0_usize..6,
        ) {
            let query = |page: String, per_page: String| {
                HashMap::from([("page".to_owned(), page), ("per_page".to_owned(), per_page)])
            };
            let paging = Paging::from_query(&query(page.to_string(), per_page.to_string()));
            prop_assert_eq!(paging.ok(), Some(Paging { page, per_page }));
            let hostile = [
                format!("+{page}"),
                format!("0{page}"),
                format!(" {page}"),
                format!("{page}.0"),
                format!("{page}e0"),
                format!("-{page}"),
            ][form].clone();
            prop_assert!(Paging::from_query(&query(hostile.clone(), per_page.to_string())).is_err(), "page={:?}", hostile);
            prop_assert!(Paging::from_query(&query(page.to_string(), hostile.clone())).is_err(), "per_page={:?}", hostile);
            let beyond = query((1_000_001 + page).to_string(), (MAX_PER_PAGE + per_page).to_string());
            prop_assert!(Paging::from_query(&beyond).is_err());
        }
    }
}
