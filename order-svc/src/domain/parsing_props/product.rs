//! The product fields' parser (a create, or a patch) on hostile bodies:
//! accepted within bounds and parsed back to itself, or each bad field named.

use proptest::{prelude::*, sample::Index};
use serde_json::{Map, Value, json};

use super::{
    config, control_char, hostile_text, json_value, named, neither_string_nor_number, object,
};
use crate::domain::product::{FIELDS, MAX_STOCK, ProductPatch, TEXT_FIELDS};

fn valid_product() -> impl Strategy<Value = Map<String, Value>> {
    (
        "[A-Za-z0-9._-]{1,64}",
        "[A-Za-z][A-Za-z ]{0,40}",
        "[a-z \n]{0,100}",
        (0_i64..=999_999_999_999).prop_map(|c| format!("{}.{:02}", c / 100, c % 100)),
        0_i64..=MAX_STOCK,
        "[A-Z][a-z]{0,20}",
        prop_oneof![Just(Value::Null), "/[a-z]{1,10}\\.svg".prop_map(Value::String)],
    )
        .prop_map(
            |(sku, name, description, price, stock, category, image_url)| {
                object(json!({"sku": sku, "name": name, "description": description, "price": price,
                    "currency": "EUR", "stock": stock, "category": category, "image_url": image_url}))
            },
        )
}

/// What the documentation promises of every field a parse accepted.
fn within_bounds(patch: &ProductPatch) -> Result<(), TestCaseError> {
    let text_ok = |text: &str, min: usize, max: usize| {
        (min..=max).contains(&text.chars().count())
            && text == text.trim()
            && !text.chars().any(|c| c.is_control() && c != '\n')
    };
    if let Some(sku) = &patch.sku {
        prop_assert!(
            (1..=64).contains(&sku.len())
                && sku
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
            "sku {:?}",
            sku
        );
    }
    if let Some(name) = &patch.name {
        prop_assert!(
            text_ok(name, 1, 200) && !name.contains('\n'),
            "name {:?}",
            name
        );
    }
    if let Some(description) = &patch.description {
        prop_assert!(
            text_ok(description, 0, 2000),
            "description {:?}",
            description
        );
    }
    if let Some(category) = &patch.category {
        prop_assert!(
            text_ok(category, 1, 100) && !category.contains('\n'),
            "category {:?}",
            category
        );
    }
    if let Some(currency) = &patch.currency {
        prop_assert!(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()));
    }
    if let Some(stock) = patch.stock {
        prop_assert!((0..=MAX_STOCK).contains(&i64::from(stock)));
    }
    if let Some(Some(url)) = &patch.image_url {
        let absolute = url.starts_with("https://") || url.starts_with("http://");
        let path = url.starts_with('/') && !url.starts_with("//");
        prop_assert!(
            url.len() <= 2048 && (absolute || path),
            "image_url {:?}",
            url
        );
        prop_assert!(!url.chars().any(|c| c.is_whitespace() || c.is_control()));
    }
    Ok(())
}

/// The body a client would send for `patch`.
fn product_body(patch: &ProductPatch) -> Map<String, Value> {
    let mut body = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            body.insert(key.to_owned(), value);
        }
    };
    put("sku", patch.sku.clone().map(Value::String));
    put("name", patch.name.clone().map(Value::String));
    put("description", patch.description.clone().map(Value::String));
    put("price", patch.price.map(|p| Value::String(p.to_string())));
    put("currency", patch.currency.clone().map(Value::String));
    put("stock", patch.stock.map(Value::from));
    put("category", patch.category.clone().map(Value::String));
    put(
        "image_url",
        patch
            .image_url
            .clone()
            .map(|url| url.map_or(Value::Null, Value::String)),
    );
    body
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_product_body_is_parsed_within_bounds_or_refused_naming_fields(
        body in prop::collection::btree_map(
            prop_oneof![prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned), "[a-z_]{1,12}"],
            prop_oneof![json_value(), hostile_text().prop_map(Value::String)],
            0..10,
        ),
        create in any::<bool>(),
    ) {
        let body: Map<String, Value> = body.into_iter().collect();
        match ProductPatch::parse(&body, create) {
            Ok(patch) => {
                within_bounds(&patch)?;
                // Parsed again from what it became, it is the same.
                let again = ProductPatch::parse(&product_body(&patch), create);
                prop_assert_eq!(again.ok(), Some(patch.clone()));
                if create {
                    prop_assert!(patch.into_fields().is_ok());
                }
            }
            Err(refused) => {
                for field in named(&refused)? {
                    prop_assert!(
                        body.contains_key(&field) || (create && FIELDS.contains(&field.as_str())),
                        "{} named, not in {:?}", field, body
                    );
                }
            }
        }
    }

    #[test]
    fn a_valid_product_is_accepted_as_given(body in valid_product()) {
        let patch = ProductPatch::parse(&body, true).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        within_bounds(&patch)?;
        let fields = patch.into_fields().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(Some(fields.sku.as_str()), body["sku"].as_str());
        let price = fields.price.to_string();
        prop_assert_eq!(Some(price.as_str()), body["price"].as_str());
        prop_assert_eq!(Some(i64::from(fields.stock)), body["stock"].as_i64());
    }

    #[test]
    fn a_product_field_of_the_wrong_type_is_named(
        body in valid_product(),
        field in prop::sample::select(FIELDS.to_vec()),
        value in neither_string_nor_number(),
        create in any::<bool>(),
    ) {
        let mut body = body;
        body.insert(field.to_owned(), value);
        let refused = ProductPatch::parse(&body, create);
        let refused = refused.err().ok_or_else(|| TestCaseError::fail(format!("{field} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
    }

    #[test]
    fn a_product_text_with_a_control_character_or_overlong_is_named(
        body in valid_product(),
        field in prop::sample::select(TEXT_FIELDS.to_vec()),
        c in control_char().prop_filter("newlines are allowed in text", |c| *c != '\n'),
        at in any::<Index>(),
        overlong in any::<bool>(),
    ) {
        let mut body = body;
        let original = body[field].as_str().unwrap_or("/a.svg").to_owned();
        let hostile = if overlong {
            "x".repeat(2049 + original.len())
        } else {
            let chars: Vec<char> = original.chars().collect();
            let at = 1 + at.index(chars.len().max(1));
            let mut text: String = chars[..at.min(chars.len())].iter().collect();
            text.push(c);
            text.extend(&chars[at.min(chars.len())..]);
            format!("x{text}x")
        };
        body.insert(field.to_owned(), Value::String(hostile.clone()));
        let refused = ProductPatch::parse(&body, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{field} = {hostile:?} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
    }

    #[test]
    fn a_number_where_text_belongs_is_named(
        body in valid_product(),
        field in prop::sample::select(TEXT_FIELDS.to_vec()),
        number in any::<i64>(),
    ) {
        let mut body = body;
        body.insert(field.to_owned(), Value::from(number));
        let refused = ProductPatch::parse(&body, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{field} = {number} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
    }

    #[test]
    fn a_name_or_category_on_two_lines_is_named(
        body in valid_product(),
        field in prop::sample::select(vec!["name", "category"]),
        first in "[a-z]{1,20}",
        second in "[a-z]{1,20}",
    ) {
        let mut body = body;
        body.insert(field.to_owned(), Value::String(format!("{first}\n{second}")));
        let refused = ProductPatch::parse(&body, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{field} on two lines accepted")))?;
        prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
    }

    #[test]
    fn a_stock_written_other_than_plainly_is_named(
        body in valid_product(),
        stock in 0_i64..=MAX_STOCK,
        form in 0_usize..3,
    ) {
        let written = [format!("+{stock}"), format!("0{stock}"), format!(" {stock}")][form].clone();
        let mut body = body;
        body.insert("stock".into(), Value::String(written.clone()));
        let refused = ProductPatch::parse(&body, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("stock {written:?} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec!["stock".to_owned()]);
    }

    #[test]
    fn a_price_or_stock_out_of_bounds_or_in_another_form_is_named(
        body in valid_product(),
        cents in 1_i64..=999_999_999_999,
        form in 0_usize..8,
        stock in prop_oneof![i64::MIN..0, (MAX_STOCK + 1)..=i64::MAX],
    ) {
        let canonical = format!("{}.{:02}", cents / 100, cents % 100);
        let price = [
            format!("-{canonical}"),
            format!("+{canonical}"),
            format!("{canonical}e0"),
            format!("0{canonical}"),
            format!("{canonical}1"),
            format!("{}.{:02}", cents / 100 + 10_000_000_000, cents % 100),
            canonical.replace('.', ","),
            format!(".{:02}", cents % 100),
        ][form].clone();
        let mut priced = body.clone();
        priced.insert("price".into(), Value::String(price.clone()));
        let refused = ProductPatch::parse(&priced, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("price {price:?} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec!["price".to_owned()]);
        let mut stocked = body;
        stocked.insert("stock".into(), Value::from(stock));
        let refused = ProductPatch::parse(&stocked, false)
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("stock {stock} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec!["stock".to_owned()]);
    }
}
