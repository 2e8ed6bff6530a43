//! A product's fields, validated: what an admin may create or change.

use serde_json::{Map, Value};

use contract::Currency;
use edge::{error::ApiError, fields::FieldErrors};

use super::{Money, ValueError};

/// Most units of one product in stock.
pub const MAX_STOCK: i64 = 1_000_000;

/// Every field of a product, valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFields {
    /// Unique stock-keeping unit: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    pub sku: String,
    /// 1 to 200 characters.
    pub name: String,
    /// At most 2000 characters.
    pub description: String,
    /// The price.
    pub price: Money,
    /// ISO 4217 code, three capital letters.
    pub currency: String,
    /// Units in stock, 0 to 1,000,000.
    pub stock: i32,
    /// 1 to 100 characters.
    pub category: String,
    /// An `http(s)://` URL or a path starting with `/`, at most 2048 characters.
    pub image_url: Option<String>,
}

impl ProductFields {
    /// Refuses a currency other than the shop's.
    pub fn sold_in(self, shop: &Currency) -> Result<Self, NotShopCurrency> {
        sold_in(Some(&self.currency), shop)?;
        Ok(self)
    }
}

/// A product priced in another currency than the shop's. One shop, one
/// currency, so that totals and credit never mix currencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this shop sells in {shop} only")]
pub struct NotShopCurrency {
    /// The shop's currency.
    pub shop: Currency,
}

fn sold_in(currency: Option<&str>, shop: &Currency) -> Result<(), NotShopCurrency> {
    match currency {
        Some(currency) if currency != shop.as_str() => Err(NotShopCurrency { shop: shop.clone() }),
        _ => Ok(()),
    }
}

/// Some fields of a product; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductPatch {
    /// New sku.
    pub sku: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<Money>,
    /// New currency.
    pub currency: Option<String>,
    /// New stock level.
    pub stock: Option<i32>,
    /// New category.
    pub category: Option<String>,
    /// New image URL (`null` clears it).
    pub image_url: Option<Option<String>>,
}

/// The fields that are text: a JSON number there is a mistake.
pub(crate) const TEXT_FIELDS: [&str; 6] = [
    "sku",
    "name",
    "description",
    "currency",
    "category",
    "image_url",
];

/// Every field a product has.
pub(crate) const FIELDS: [&str; 8] = [
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "stock",
    "category",
    "image_url",
];

impl ProductPatch {
    /// Parses a body of product fields; with `all_required`, every field but
    /// `description` and `image_url` must be there (a create).
    pub fn parse(body: &Map<String, Value>, all_required: bool) -> Result<Self, ApiError> {
        let mut fields = FieldErrors::default();
        for (key, value) in body {
            if !FIELDS.contains(&key.as_str()) {
                fields.add(key, "is not a product field");
            } else if TEXT_FIELDS.contains(&key.as_str()) && value.is_number() {
                // Only amounts and counts may be JSON numbers.
                fields.add(key, "must be a string");
            }
        }
        let mut field = |name: &str, parse: &dyn Fn(&str) -> Result<String, ValueError>| {
            if all_required && !matches!(name, "description" | "image_url") {
                fields.required(body, name, parse)
            } else {
                fields.optional(body, name, parse)
            }
        };
        let sku = field("sku", &parse_sku);
        let name = field("name", &|raw| one_line(raw, 1, 200));
        let description = field("description", &|raw| bounded_text(raw, 0, 2000));
        let price = field("price", &|raw| Money::parse(raw).map(|m| m.to_string()));
        let currency = field("currency", &parse_currency);
        let stock = field("stock", &parse_stock);
        let category = field("category", &|raw| one_line(raw, 1, 100));
        let image_url = field("image_url", &parse_image_url);
        let clears_image = body.get("image_url").is_some_and(Value::is_null);
        fields.into_result()?;
        Ok(Self {
            sku,
            name,
            description,
            price: price.and_then(|p| Money::parse(&p).ok()),
            currency,
            stock: stock.and_then(|s| s.parse().ok()),
            category,
            image_url: if clears_image {
                Some(None)
            } else {
                image_url.map(Some)
            },
        })
    }

    /// The complete fields of a create, once [`ProductPatch::parse`] checked them.
    pub fn into_fields(self) -> Result<ProductFields, ApiError> {
        let missing = || ApiError::internal("validated product field missing");
        Ok(ProductFields {
            sku: self.sku.ok_or_else(missing)?,
            name: self.name.ok_or_else(missing)?,
            description: self.description.unwrap_or_default(),
            price: self.price.ok_or_else(missing)?,
            currency: self.currency.ok_or_else(missing)?,
            stock: self.stock.ok_or_else(missing)?,
            category: self.category.ok_or_else(missing)?,
            image_url: self.image_url.flatten(),
        })
    }

    /// Refuses a currency other than the shop's.
    pub fn sold_in(self, shop: &Currency) -> Result<Self, NotShopCurrency> {
        sold_in(self.currency.as_deref(), shop)?;
        Ok(self)
    }

    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn parse_sku(raw: &str) -> Result<String, ValueError> {
    let sku = raw.trim();
    let ok = (1..=64).contains(&sku.len())
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(sku.to_owned())
    } else {
        Err(ValueError(
            "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' or '-'".into(),
        ))
    }
}

fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, ValueError> {
    let text = raw.trim();
    let length = text.chars().count();
    if length < min || length > max {
        return Err(ValueError(format!("must be {min} to {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValueError("must not contain control characters".into()));
    }
    Ok(text.to_owned())
}

/// [`bounded_text`] on one line: names and categories are labels.
fn one_line(raw: &str, min: usize, max: usize) -> Result<String, ValueError> {
    let text = bounded_text(raw, min, max)?;
    if text.contains('\n') {
        return Err(ValueError("must be one line".into()));
    }
    Ok(text)
}

fn parse_currency(raw: &str) -> Result<String, ValueError> {
    Currency::parse(raw).map(|currency| currency.to_string())
}

fn parse_stock(raw: &str) -> Result<String, ValueError> {
    // Written plainly: digits only, no sign, no leading zeros.
    let plain = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    match raw.parse::<i64>() {
        Ok(n) if plain && (0..=MAX_STOCK).contains(&n) => Ok(n.to_string()),
        _ => Err(ValueError(format!(
            "must be a whole number from 0 to {MAX_STOCK}"
        ))),
    }
}

fn parse_image_url(raw: &str) -> Result<String, ValueError> {
    use validator::ValidateUrl;
    let url = raw.trim();
    let absolute =
        (url.starts_with("https://") || url.starts_with("http://")) && url.validate_url();
    let path = url.starts_with('/') && !url.starts_with("//");
    let ok = url.len() <= 2048
        && (absolute || path)
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(ValueError(
            "must be an http(s) URL or a path starting with '/'".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_full_product_parses() {
        let body = json!({"sku": "MUG-1", "name": " Mug ", "price": "12.5", "currency": "EUR",
                          "stock": 3, "category": "Kitchen", "image_url": "/images/mug.svg"});
        let fields = ProductPatch::parse(body.as_object().unwrap(), true)
            .unwrap()
            .into_fields()
            .unwrap();
        assert_eq!(fields.name, "Mug");
        assert_eq!(fields.price.to_string(), "12.50");
        assert_eq!(fields.stock, 3);
        assert_eq!(fields.description, "");
    }

    #[test]
    fn bad_fields_are_all_named() {
        let bad_url = json!({"image_url": "https://exa mple.com/x.png"});
        assert!(ProductPatch::parse(bad_url.as_object().unwrap(), false).is_err());
        let good_url = json!({"image_url": "https://cdn.example.com/x.png"});
        assert!(ProductPatch::parse(good_url.as_object().unwrap(), false).is_ok());
        let body = json!({"sku": "no spaces", "name": "", "price": "-1", "currency": "eur",
                          "stock": -1, "category": "", "image_url": "javascript:alert(1)", "colour": "red"});
        let Err(ApiError::Validation(errors)) =
            ProductPatch::parse(body.as_object().unwrap(), true)
        else {
            panic!("expected 422")
        };
        for field in [
            "sku",
            "name",
            "price",
            "currency",
            "stock",
            "category",
            "image_url",
            "colour",
        ] {
            assert!(errors.get(field).is_some(), "{field} missing in {errors}");
        }
        let Err(ApiError::Validation(errors)) =
            ProductPatch::parse(json!({}).as_object().unwrap(), true)
        else {
            panic!("expected 422")
        };
        assert!(errors.get("sku").is_some() && errors.get("description").is_none());
    }

    #[test]
    fn a_patch_may_clear_the_image() {
        let patch = ProductPatch::parse(
            json!({"image_url": null, "stock": 7}).as_object().unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(patch.image_url, Some(None));
        assert_eq!(patch.stock, Some(7));
        assert!(
            ProductPatch::parse(json!({}).as_object().unwrap(), false)
                .unwrap()
                .is_empty()
        );
    }
}
