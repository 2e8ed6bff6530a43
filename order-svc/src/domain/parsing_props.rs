//! Property tests of the request parsers of this domain (product fields and
//! checkout requests) on hostile bodies: never a panic; what is accepted is
//! within the documented bounds and parses back to itself; every refusal is
//! a 422 naming the fields at fault. One fixed seed, so that each run tries
//! the same inputs.

use proptest::{
    prelude::*,
    sample::Index,
    test_runner::{Config, RngSeed},
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    checkout::{CheckoutRequest, MAX_LINES, MAX_QUANTITY},
    product::{FIELDS, MAX_STOCK, ProductPatch, TEXT_FIELDS},
};
use edge::error::ApiError;

/// Inputs each property tries.
const CASES: u32 = 512;

fn config() -> Config {
    Config {
        rng_seed: RngSeed::Fixed(0x1200_0007),
        failure_persistence: None,
        ..Config::with_cases(CASES)
    }
}

/// C0, DEL and C1 control characters.
fn control_char() -> impl Strategy<Value = char> {
    prop_oneof![
        (0_u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
        Just('\u{7f}'),
        (0x80_u32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('\0')),
    ]
}

/// Anything at all, control characters, overlong runs and a few classics.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
        (".", 101_usize..3000).prop_map(|(c, n)| c.repeat(n)),
        prop::sample::select(vec![
            "",
            " ",
            "\u{0}",
            "null",
            "-1",
            "+5",
            "05",
            "1e3",
            "1_000",
            "12.345",
            "eur",
            "EUR ",
            "javascript:alert(1)",
            "//evil.example/x.png",
            "/ok.png",
            "https://cdn.example.com/x.png",
            "Eve <eve@example.com>",
            "'; DROP TABLE products; --",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A bool, an array or an object: no field of either body is one of those.
fn neither_string_nor_number() -> impl Strategy<Value = Value> {
    json_value().prop_map(|value| match value {
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => value,
        Value::Null | Value::Number(_) => Value::Bool(true),
        Value::String(text) => json!([text]),
    })
}

/// The fields a 422 names; any other error fails the property.
fn named(error: &ApiError) -> Result<Vec<String>, TestCaseError> {
    match error {
        ApiError::Validation(Value::Object(fields)) if !fields.is_empty() => {
            for message in fields.values() {
                prop_assert!(message.as_str().is_some_and(|m| !m.is_empty()));
            }
            Ok(fields.keys().cloned().collect())
        }
        other => Err(TestCaseError::fail(format!(
            "not a 422 naming fields: {other:?}"
        ))),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

// ---------------------------------------------------------------- products

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

// ---------------------------------------------------------------- checkout

fn valid_line() -> impl Strategy<Value = Value> {
    (any::<u128>(), 1_u32..=MAX_QUANTITY).prop_map(|(id, quantity)| {
        json!({"product_id": Uuid::from_u128(id).to_string(), "quantity": quantity})
    })
}

fn valid_checkout() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9]{1,20}@[a-z0-9]{1,20}\\.example\\.org",
        "[A-Za-z][A-Za-z ]{0,40}",
        prop::collection::vec(valid_line(), 1..=MAX_LINES),
    )
        .prop_map(|(email, name, items)| {
            json!({"customer": {"email": email, "name": name}, "items": items})
        })
}

/// Where a checkout body holds a value, and the field a 422 names for it.
fn checkout_slot(body: &Value, at: Index) -> (String, String) {
    let lines = body["items"].as_array().map_or(0, Vec::len).max(1);
    let slot = at.index(4 + 2 * lines);
    match slot {
        0 => ("/customer".into(), "customer".into()),
        1 => ("/customer/email".into(), "customer.email".into()),
        2 => ("/customer/name".into(), "customer.name".into()),
        3 => ("/items".into(), "items".into()),
        n => {
            let line = (n - 4) / 2;
            let key = if n % 2 == 0 { "product_id" } else { "quantity" };
            (
                format!("/items/{line}/{key}"),
                format!("items[{line}].{key}"),
            )
        }
    }
}

/// Every invariant an accepted checkout holds.
fn checkout_within_bounds(request: &CheckoutRequest) -> Result<(), TestCaseError> {
    prop_assert!((1..=MAX_LINES).contains(&request.lines.len()));
    let mut seen = std::collections::HashSet::new();
    for line in &request.lines {
        prop_assert!((1..=MAX_QUANTITY).contains(&line.quantity));
        prop_assert!(seen.insert(line.product_id), "a product on two lines");
    }
    let email = request.email.as_str();
    prop_assert!(email == email.trim().to_lowercase() && !email.chars().any(char::is_control));
    let name = request.name.as_str();
    prop_assert!(name == name.trim() && !name.is_empty() && !name.chars().any(char::is_control));
    Ok(())
}

/// The canonical body a client would send for `request`.
fn checkout_body(request: &CheckoutRequest) -> Map<String, Value> {
    object(json!({
        "customer": {"email": request.email.as_str(), "name": request.name.as_str()},
        "items": request.lines.iter().map(|l| json!({"product_id": l.product_id.to_string(), "quantity": l.quantity})).collect::<Vec<_>>(),
    }))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_checkout_body_is_parsed_within_bounds_or_refused_naming_fields(
        customer in prop_oneof![
            json_value(),
            prop::collection::btree_map(
                prop_oneof![Just("email".to_owned()), Just("name".to_owned()), "[a-z]{1,6}"],
                prop_oneof![json_value(), hostile_text().prop_map(Value::String)],
                0..4,
            ).prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ],
        items in prop_oneof![
            json_value(),
            prop::collection::vec(prop_oneof![valid_line(), json_value()], 0..60).prop_map(Value::Array),
        ],
        signed_in in prop::option::of((any::<u128>(), "[a-z]{1,8}@example\\.com")),
    ) {
        let body = object(json!({"customer": customer, "items": items}));
        let signed_in = signed_in.as_ref().map(|(id, email)| (Uuid::from_u128(*id), email.as_str()));
        match CheckoutRequest::parse_for(&body, signed_in) {
            Ok(request) => {
                checkout_within_bounds(&request)?;
                let again = CheckoutRequest::parse_for(&checkout_body(&request), signed_in)
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(again.fingerprint(), request.fingerprint());
                prop_assert_eq!(again, request);
            }
            Err(refused) => {
                for field in named(&refused)? {
                    prop_assert!(field.starts_with("customer") || field.starts_with("items"), "{}", field);
                }
            }
        }
    }

    #[test]
    fn a_valid_checkout_is_accepted_and_its_fingerprint_ignores_form(body in valid_checkout(), shout in any::<bool>()) {
        let request = CheckoutRequest::parse(&object(body.clone()))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        checkout_within_bounds(&request)?;
        let mut restyled = body;
        if shout {
            let email = restyled["customer"]["email"].as_str().unwrap_or("").to_uppercase();
            restyled["customer"]["email"] = Value::String(format!("  {email} "));
        }
        let name = restyled["customer"]["name"].as_str().unwrap_or("").to_owned();
        restyled["customer"]["name"] = Value::String(format!(" {name}  "));
        let same = CheckoutRequest::parse(&object(restyled))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(same.fingerprint(), request.fingerprint());
    }

    #[test]
    fn a_checkout_value_of_the_wrong_type_is_named(
        body in valid_checkout(),
        at in any::<Index>(),
        value in prop_oneof![neither_string_nor_number(), any::<i64>().prop_map(Value::from), Just(Value::Null), hostile_text().prop_map(Value::String)],
    ) {
        let (pointer, field) = checkout_slot(&body, at);
        let original = body.pointer(&pointer).cloned().unwrap_or_default();
        // Only values of another type than the one the slot holds.
        let same_type = std::mem::discriminant(&original) == std::mem::discriminant(&value);
        let mut body = body;
        if let Some(slot) = body.pointer_mut(&pointer) {
            *slot = match (same_type, original.is_array()) {
                (false, _) => value,
                (true, false) => json!([original]),
                (true, true) => json!({ "lines": original }),
            };
        }
        let refused = CheckoutRequest::parse(&object(body))
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{field} accepted")))?;
        let fields = named(&refused)?;
        // A whole customer or items list of the wrong type is named as such;
        // a missing customer leaves nothing else to name.
        prop_assert!(fields.contains(&field), "{} not in {:?}", field, fields);
    }

    #[test]
    fn hostile_customer_text_is_named(
        body in valid_checkout(),
        email in any::<bool>(),
        c in control_char(),
        overlong in 255_usize..3000,
        form in 0_usize..3,
    ) {
        let (key, field) = if email { ("email", "customer.email") } else { ("name", "customer.name") };
        let original = body["customer"][key].as_str().unwrap_or("a").to_owned();
        let hostile = match form {
            0 => format!("{}{c}{}x", &original[..1], &original[1..]),
            1 => "é".repeat(overlong),
            _ => String::new(),
        };
        let mut body = body;
        body["customer"][key] = Value::String(hostile.clone());
        let refused = CheckoutRequest::parse(&object(body))
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{field} = {hostile:?} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
    }

    #[test]
    fn quantities_out_of_range_too_many_lines_and_repeated_products_are_named(
        body in valid_checkout(),
        quantity in prop_oneof![
            Just(json!(0)),
            ((MAX_QUANTITY as i64 + 1)..=i64::MAX).prop_map(Value::from),
            (i64::MIN..0).prop_map(Value::from),
            Just(json!(1.5)),
            Just(json!(1.0)),
            Just(json!(u64::MAX)),
            Just(json!("1")),
        ],
        extra in 1_usize..20,
    ) {
        let mut bad_quantity = body.clone();
        bad_quantity["items"][0]["quantity"] = quantity.clone();
        let refused = CheckoutRequest::parse(&object(bad_quantity)).err()
            .ok_or_else(|| TestCaseError::fail(format!("quantity {quantity} accepted")))?;
        prop_assert_eq!(named(&refused)?, vec!["items[0].quantity".to_owned()]);

        let mut too_many = body.clone();
        let lines: Vec<Value> = (0..(MAX_LINES + extra) as u128)
            .map(|id| json!({"product_id": Uuid::from_u128(id).to_string(), "quantity": 1}))
            .collect();
        too_many["items"] = Value::Array(lines);
        let refused = CheckoutRequest::parse(&object(too_many)).err()
            .ok_or_else(|| TestCaseError::fail("too many lines accepted"))?;
        prop_assert_eq!(named(&refused)?, vec!["items".to_owned()]);

        let mut repeated = body;
        let first = repeated["items"][0].clone();
        if let Some(items) = repeated["items"].as_array_mut() {
            items.push(first);
        }
        let lines = repeated["items"].as_array().map_or(0, Vec::len);
        if lines <= MAX_LINES {
            let refused = CheckoutRequest::parse(&object(repeated)).err()
                .ok_or_else(|| TestCaseError::fail("a repeated product accepted"))?;
            prop_assert_eq!(named(&refused)?, vec![format!("items[{}].product_id", lines - 1)]);
        }
    }

    #[test]
    fn a_signed_in_checkout_is_for_the_customer_signed_in(
        body in valid_checkout(),
        id in any::<u128>(),
        own in "[a-z]{1,8}@example\\.com",
        leave_out in any::<bool>(),
    ) {
        let id = Uuid::from_u128(id);
        let mut body = body;
        if leave_out {
            if let Some(customer) = body["customer"].as_object_mut() {
                customer.remove("email");
            }
            let request = CheckoutRequest::parse_for(&object(body), Some((id, &own)))
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(request.email.as_str(), own.as_str());
            prop_assert_eq!(request.customer_id, Some(id));
        } else {
            // The generated email is never `own`: it is at `example.org`.
            let refused = CheckoutRequest::parse_for(&object(body), Some((id, &own)))
                .err()
                .ok_or_else(|| TestCaseError::fail("another customer's email accepted"))?;
            prop_assert_eq!(named(&refused)?, vec!["customer.email".to_owned()]);
        }
    }
}
