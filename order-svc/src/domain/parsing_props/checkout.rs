//! The checkout request's parser on hostile bodies: accepted within bounds,
//! its fingerprint blind to form, or each bad field named.

use proptest::{prelude::*, sample::Index};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    config, control_char, hostile_text, json_value, named, neither_string_nor_number, object,
};
use crate::domain::checkout::{CheckoutRequest, MAX_LINES, MAX_QUANTITY};

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
