//! A checkout request, parsed: a valid customer and 1 to 50 distinct lines of
//! 1 to 1000 units each. Prices are never taken from the request
//! (`super::pricing` prices it from the catalogue).

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use edge::{error::ApiError, fields::FieldErrors};

use super::{Email, PersonName};

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;
/// Most units of one product in one order.
pub const MAX_QUANTITY: u32 = 1000;

/// One requested line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units, 1 to 1000.
    pub quantity: u32,
}

/// A valid checkout request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckoutRequest {
    /// The signed-in customer it is for; `None` for a guest. Part of the
    /// fingerprint: a guest's retry is not a signed-in customer's. Left out
    /// for a guest, so that guests' fingerprints are what they were before
    /// accounts existed (a retry across the upgrade is still a retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    /// The customer's email.
    pub email: Email,
    /// The customer's name.
    pub name: PersonName,
    /// The lines, in the order given.
    pub lines: Vec<RequestedLine>,
}

impl CheckoutRequest {
    /// A guest's checkout: [`CheckoutRequest::parse_for`] with no one signed in.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        Self::parse_for(body, None)
    }

    /// Parses `{"customer": {"email", "name"}, "items": [{"product_id", "quantity"}]}`,
    /// naming every invalid field in one 422. For a customer signed in
    /// (`signed_in`: their id and email) the email may be left out, and if
    /// given must be theirs.
    pub fn parse_for(
        body: &Map<String, Value>,
        signed_in: Option<(Uuid, &str)>,
    ) -> Result<Self, ApiError> {
        let mut fields = FieldErrors::default();
        let (email, name) = match body.get("customer") {
            Some(Value::Object(customer)) => (
                match (customer.get("email"), signed_in) {
                    (None | Some(Value::Null), Some((_, own))) => Email::parse(own)
                        .map_err(|e| fields.add("customer.email", e.0))
                        .ok(),
                    _ => text(customer, "email", "customer.email", &mut fields).and_then(|raw| {
                        Email::parse(&raw)
                            .map_err(|e| fields.add("customer.email", e.0))
                            .ok()
                    }),
                }
                .filter(|email| match signed_in {
                    Some((_, own)) if email.as_str() != own => {
                        fields.add("customer.email", "must be the signed-in customer's email");
                        false
                    }
                    _ => true,
                }),
                text(customer, "name", "customer.name", &mut fields).and_then(|raw| {
                    PersonName::parse(&raw)
                        .map_err(|e| fields.add("customer.name", e.0))
                        .ok()
                }),
            ),
            _ => {
                fields.add("customer", "must be an object with email and name");
                (None, None)
            }
        };

        let mut lines = Vec::new();
        match body.get("items") {
            Some(Value::Array(items)) if items.is_empty() => {
                fields.add("items", "must not be empty")
            }
            Some(Value::Array(items)) if items.len() > MAX_LINES => {
                fields.add("items", format!("must have at most {MAX_LINES} lines"));
            }
            Some(Value::Array(items)) => {
                let mut seen = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let (product_id, quantity) = parse_line(index, item, &mut fields);
                    if let Some(product_id) = product_id {
                        if seen.contains(&product_id) {
                            fields.add(
                                &format!("items[{index}].product_id"),
                                "appears on another line; give one line per product",
                            );
                        }
                        seen.push(product_id);
                    }
                    if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
                        lines.push(RequestedLine {
                            product_id,
                            quantity,
                        });
                    }
                }
            }
            _ => fields.add("items", "must be a list of {product_id, quantity}"),
        }
        fields.into_result()?;
        match (email, name) {
            (Some(email), Some(name)) => Ok(Self {
                customer_id: signed_in.map(|(id, _)| id),
                email,
                name,
                lines,
            }),
            _ => Err(ApiError::internal("validated customer missing")),
        }
    }

    /// A fingerprint of the request, to tell a retry from a different request
    /// reusing an `Idempotency-Key`.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        format!("{:x}", Sha256::digest(canonical))
    }
}

fn text(
    object: &Map<String, Value>,
    key: &str,
    field: &str,
    fields: &mut FieldErrors,
) -> Option<String> {
    match object.get(key) {
        Some(Value::String(value)) => Some(value.clone()),
        None | Some(Value::Null) => {
            fields.add(field, "is required");
            None
        }
        Some(_) => {
            fields.add(field, "must be a string");
            None
        }
    }
}

/// A line's product id and quantity, each `None` when invalid (and named in `fields`).
fn parse_line(index: usize, item: &Value, fields: &mut FieldErrors) -> (Option<Uuid>, Option<u32>) {
    let Value::Object(item) = item else {
        fields.add(
            &format!("items[{index}]"),
            "must be an object with product_id and quantity",
        );
        return (None, None);
    };
    let product_id = match item.get("product_id") {
        Some(Value::String(raw)) => Uuid::parse_str(raw)
            .map_err(|_| {
                fields.add(
                    &format!("items[{index}].product_id"),
                    "must be a product id (UUID)",
                )
            })
            .ok(),
        _ => {
            fields.add(
                &format!("items[{index}].product_id"),
                "is required (a product id)",
            );
            None
        }
    };
    let quantity = match item.get("quantity").and_then(Value::as_u64) {
        Some(q) if (1..=u64::from(MAX_QUANTITY)).contains(&q) => u32::try_from(q).ok(),
        _ => {
            fields.add(
                &format!("items[{index}].quantity"),
                format!("must be a whole number from 1 to {MAX_QUANTITY}"),
            );
            None
        }
    };
    (product_id, quantity)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_guests_fingerprint_is_unchanged_by_accounts_and_differs_from_a_customers() {
        let body = json!({"customer": {"email": "a@example.com", "name": "A"},
                          "items": [{"product_id": Uuid::nil(), "quantity": 1}]});
        let Value::Object(body) = body else {
            unreachable!()
        };
        let guest = CheckoutRequest::parse(&body).unwrap();
        // What a guest's request serialised to before accounts: no customer_id.
        assert!(
            !serde_json::to_string(&guest)
                .unwrap()
                .contains("customer_id")
        );
        let signed_in =
            CheckoutRequest::parse_for(&body, Some((Uuid::from_u128(7), "a@example.com"))).unwrap();
        assert_ne!(guest.fingerprint(), signed_in.fingerprint());
    }

    fn parse(value: Value) -> Result<CheckoutRequest, ApiError> {
        CheckoutRequest::parse(value.as_object().unwrap())
    }

    fn fields(error: ApiError) -> Value {
        match error {
            ApiError::Validation(fields) => fields,
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_is_normalised() {
        let id = Uuid::new_v4();
        let request = parse(json!({"customer": {"email": " A@B.co ", "name": " Al "},
                                   "items": [{"product_id": id.to_string(), "quantity": 2}]}))
        .unwrap();
        assert_eq!(request.email.as_str(), "a@b.co");
        assert_eq!(request.name.as_str(), "Al");
        assert_eq!(
            request.lines,
            vec![RequestedLine {
                product_id: id,
                quantity: 2
            }]
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let id = Uuid::new_v4().to_string();
        let errors = fields(
            parse(json!({"customer": {"email": "nope", "name": ""},
                         "items": [{"product_id": "x", "quantity": 0},
                                   {"product_id": id, "quantity": 1001},
                                   {"product_id": id, "quantity": 1}]}))
            .unwrap_err(),
        );
        for field in [
            "customer.email",
            "customer.name",
            "items[0].product_id",
            "items[0].quantity",
            "items[1].quantity",
            "items[2].product_id",
        ] {
            assert!(errors.get(field).is_some(), "{field} missing in {errors}");
        }
        let too_many: Vec<Value> = (0..51)
            .map(|_| json!({"product_id": Uuid::new_v4().to_string(), "quantity": 1}))
            .collect();
        let errors = fields(
            parse(json!({"customer": {"email": "a@b.co", "name": "A"}, "items": too_many}))
                .unwrap_err(),
        );
        assert!(errors.get("items").is_some());
        let errors = fields(parse(json!({"items": []})).unwrap_err());
        assert!(errors.get("customer").is_some() && errors.get("items").is_some());
    }

    #[test]
    fn the_fingerprint_tells_requests_apart() {
        let id = Uuid::new_v4().to_string();
        let a = parse(json!({"customer": {"email": "a@b.co", "name": "A"}, "items": [{"product_id": id, "quantity": 1}]})).unwrap();
        let same = parse(json!({"customer": {"email": "A@B.CO", "name": "A "}, "items": [{"quantity": 1, "product_id": id}]})).unwrap();
        let other = parse(json!({"customer": {"email": "a@b.co", "name": "A"}, "items": [{"product_id": id, "quantity": 2}]})).unwrap();
        assert_eq!(a.fingerprint(), same.fingerprint());
        assert_ne!(a.fingerprint(), other.fingerprint());
    }
}
