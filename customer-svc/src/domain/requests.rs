//! The bodies of a sign-up and of a change to a customer, parsed at the edge:
//! every invalid field is named in one 422, and past here an email, name,
//! status, credit limit or password cannot be invalid. Who may set what (a
//! credit limit, a status) is the handler's to decide, after parsing.

use serde_json::{Map, Value};

use contract::{Email, PersonName};
use edge::{error::ApiError, fields::FieldErrors};

use super::{
    customer::{CreditLimit, CustomerStatus},
    password::Password,
};

/// The fields of a customer that a change may name.
const CHANGEABLE: [&str; 4] = ["name", "status", "credit_limit", "password"];

/// `POST /api/v1/customers`: `email` and `name`, optionally a `credit_limit`
/// and a `password` (other fields are ignored).
#[derive(Debug)]
pub struct NewCustomer {
    /// The customer's email, normalised.
    pub email: Email,
    /// Their name.
    pub name: PersonName,
    /// A credit limit other than the default (the admin's to set).
    pub credit_limit: Option<CreditLimit>,
    /// A password, which makes the customer an account that signs in.
    pub password: Option<Password>,
}

impl NewCustomer {
    /// Parses a sign-up body, naming every invalid field.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut fields = FieldErrors::default();
        let email = fields.required(body, "email", Email::parse);
        let name = fields.required(body, "name", PersonName::parse);
        let credit_limit = fields.optional(body, "credit_limit", CreditLimit::parse);
        let password = fields.optional(body, "password", Password::parse);
        fields.into_result()?;
        match (email, name) {
            (Some(email), Some(name)) => Ok(Self {
                email,
                name,
                credit_limit,
                password,
            }),
            _ => Err(ApiError::internal("validated fields missing")),
        }
    }
}

/// `PATCH /api/v1/customers/{id}`: any of `name`, `status`, `credit_limit`,
/// `password`; any other field is named as one that cannot be changed.
#[derive(Debug, Default)]
pub struct CustomerChanges {
    /// A new name.
    pub name: Option<PersonName>,
    /// A new status (the admin's to set).
    pub status: Option<CustomerStatus>,
    /// A new credit limit (the admin's to set).
    pub credit_limit: Option<CreditLimit>,
    /// A new password.
    pub password: Option<Password>,
}

impl CustomerChanges {
    /// Parses a change, naming every invalid or unchangeable field.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut fields = FieldErrors::default();
        let name = fields.optional(body, "name", PersonName::parse);
        let status = fields.optional(body, "status", str::parse::<CustomerStatus>);
        let credit_limit = fields.optional(body, "credit_limit", CreditLimit::parse);
        let password = fields.optional(body, "password", Password::parse);
        for key in body.keys() {
            if !CHANGEABLE.contains(&key.as_str()) {
                fields.add(key, "cannot be changed");
            }
        }
        fields.into_result()?;
        Ok(Self {
            name,
            status,
            credit_limit,
            password,
        })
    }
}

#[cfg(test)]
mod props {
    //! Sign-ups and changes on hostile bodies: never a panic; what is
    //! accepted is normalised and parses back to itself; every refusal is a
    //! 422 naming the fields at fault.

    use proptest::{
        prelude::*,
        test_runner::{Config, RngSeed},
    };
    use serde_json::json;

    use super::*;
    use crate::domain::password::{MAX_LENGTH, MIN_LENGTH};

    /// Inputs each property tries.
    const CASES: u32 = 512;

    fn config() -> Config {
        Config {
            rng_seed: RngSeed::Fixed(0x1200_0007),
            failure_persistence: None,
            ..Config::with_cases(CASES)
        }
    }

    /// Anything at all, control characters, overlong runs and a few classics.
    fn hostile_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
            (".", 201_usize..3000).prop_map(|(c, n)| c.repeat(n)),
            prop::sample::select(vec![
                "",
                " ",
                "\u{0}",
                "active",
                "Active",
                "blocked ",
                "1000000.01",
                "1e3",
                "+5",
                "-0",
                "a passphrase long enough",
                "Eve <eve@example.com>",
                "\"a\tb\"@example.com",
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
            any::<f64>().prop_map(|f| {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }),
            hostile_text().prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// A body with any of `keys` (and some others), each any value.
    fn body(keys: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map(
            prop_oneof![
                prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
                "[a-z_]{1,12}",
            ],
            prop_oneof![json_value(), hostile_text().prop_map(Value::String)],
            0..7,
        )
        .prop_map(|fields| fields.into_iter().collect())
    }

    fn valid_sign_up() -> impl Strategy<Value = Map<String, Value>> {
        (
            "[a-z0-9]{1,20}@[a-z0-9]{1,20}\\.example\\.org",
            "[A-Za-z][A-Za-z ]{0,40}",
            prop::option::of(0_i64..=100_000_000),
            prop::option::of("[ -~]{12,100}"),
        )
            .prop_map(|(email, name, cents, password)| {
                let mut body = Map::new();
                body.insert("email".into(), json!(email));
                body.insert("name".into(), json!(name));
                if let Some(cents) = cents {
                    body.insert(
                        "credit_limit".into(),
                        json!(format!("{}.{:02}", cents / 100, cents % 100)),
                    );
                }
                if let Some(password) = password {
                    body.insert("password".into(), json!(password));
                }
                body
            })
    }

    /// The fields a 422 names; any other error fails the property.
    fn named(error: &ApiError) -> Result<Vec<String>, TestCaseError> {
        match error {
            ApiError::Validation(Value::Object(fields)) if !fields.is_empty() => {
                Ok(fields.keys().cloned().collect())
            }
            other => Err(TestCaseError::fail(format!(
                "not a 422 naming fields: {other:?}"
            ))),
        }
    }

    fn credit_limit_ok(limit: CreditLimit) -> Result<(), TestCaseError> {
        prop_assert!(limit.amount() >= rust_decimal::Decimal::ZERO);
        prop_assert!(limit.amount() <= CreditLimit::MAX);
        prop_assert!(limit.amount().scale() == 2);
        Ok(())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_sign_up_is_parsed_normalised_or_refused_naming_fields(
            body in body(&["email", "name", "credit_limit", "password"]),
        ) {
            match NewCustomer::parse(&body) {
                Ok(new) => {
                    let email = new.email.as_str();
                    prop_assert!(email == email.trim().to_lowercase() && !email.chars().any(char::is_control));
                    let name = new.name.as_str();
                    prop_assert!(!name.is_empty() && name == name.trim() && !name.chars().any(char::is_control));
                    if let Some(limit) = new.credit_limit {
                        credit_limit_ok(limit)?;
                    }
                    // Parsed again from what it became, it is the same.
                    let mut again = Map::new();
                    again.insert("email".into(), json!(email));
                    again.insert("name".into(), json!(name));
                    if let Some(limit) = new.credit_limit {
                        again.insert("credit_limit".into(), json!(limit.amount().to_string()));
                    }
                    let again = NewCustomer::parse(&again).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    prop_assert_eq!(again.email, new.email.clone());
                    prop_assert_eq!(again.name, new.name.clone());
                    prop_assert_eq!(again.credit_limit, new.credit_limit);
                }
                Err(refused) => {
                    for field in named(&refused)? {
                        prop_assert!(["email", "name", "credit_limit", "password"].contains(&field.as_str()), "{}", field);
                    }
                }
            }
        }

        #[test]
        fn a_valid_sign_up_is_accepted(body in valid_sign_up()) {
            let new = NewCustomer::parse(&body).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(Some(new.email.as_str()), body["email"].as_str());
            prop_assert_eq!(new.password.is_some(), body.contains_key("password"));
        }

        #[test]
        fn a_sign_up_field_of_the_wrong_type_or_hostile_is_named(
            body in valid_sign_up(),
            field in prop::sample::select(vec!["email", "name", "credit_limit", "password"]),
            value in prop_oneof![
                json_value().prop_map(|v| match v {
                    Value::Bool(_) | Value::Array(_) | Value::Object(_) => v,
                    other => json!([other]),
                }),
                Just(json!("")),
                Just(json!("x\u{0}y")),
                Just(json!("x\u{1b}[31my")),
                (1201_usize..3000).prop_map(|n| json!("é".repeat(n))),
            ],
        ) {
            let mut body = body;
            body.insert(field.to_owned(), value.clone());
            // A password may hold any character; it is only ever hashed.
            let password_text = field == "password" && value.as_str().is_some_and(|p| (MIN_LENGTH..=MAX_LENGTH).contains(&p.chars().count()));
            prop_assume!(!password_text);
            let refused = NewCustomer::parse(&body)
                .err()
                .ok_or_else(|| TestCaseError::fail(format!("{field} = {value} accepted")))?;
            prop_assert_eq!(named(&refused)?, vec![field.to_owned()]);
        }

        #[test]
        fn any_change_is_parsed_or_refused_naming_fields(body in body(&CHANGEABLE)) {
            match CustomerChanges::parse(&body) {
                Ok(changes) => {
                    prop_assert!(body.keys().all(|key| CHANGEABLE.contains(&key.as_str())));
                    if let Some(limit) = changes.credit_limit {
                        credit_limit_ok(limit)?;
                    }
                    if let Some(name) = &changes.name {
                        prop_assert!(!name.as_str().chars().any(char::is_control));
                    }
                }
                Err(refused) => {
                    for field in named(&refused)? {
                        prop_assert!(body.contains_key(&field), "{} named, not in {:?}", field, body);
                    }
                }
            }
        }

        #[test]
        fn a_status_is_one_of_two_words(raw in hostile_text()) {
            match raw.parse::<CustomerStatus>() {
                Ok(status) => prop_assert_eq!(status.as_str(), raw.as_str()),
                Err(refused) => prop_assert!(!matches!(raw.as_str(), "active" | "blocked") && !refused.0.is_empty()),
            }
        }

        #[test]
        fn a_credit_limit_is_within_bounds_and_parses_to_itself(
            raw in prop_oneof![hostile_text(), "[-+ ]?[0-9]{1,8}(\\.[0-9]{0,3})?"],
            cents in 100_000_001_i64..=999_999_999_999,
        ) {
            if let Ok(limit) = CreditLimit::parse(&raw) {
                credit_limit_ok(limit)?;
                prop_assert_eq!(CreditLimit::parse(&limit.amount().to_string()), Ok(limit));
            }
            let above = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert!(CreditLimit::parse(&above).is_err(), "{} accepted", above);
        }

        #[test]
        fn a_password_is_12_to_1024_characters_and_never_shown(raw in prop_oneof![
            hostile_text(),
            (0_usize..1100).prop_map(|n| "é".repeat(n)),
        ]) {
            let length = raw.chars().count();
            match Password::parse(&raw) {
                Ok(password) => {
                    prop_assert!((MIN_LENGTH..=MAX_LENGTH).contains(&length));
                    let shown = format!("{password:?}");
                    prop_assert!(raw.is_empty() || !shown.contains(&raw), "{} shows it", shown);
                }
                Err(refused) => {
                    prop_assert!(!(MIN_LENGTH..=MAX_LENGTH).contains(&length));
                    prop_assert!(!refused.is_empty());
                }
            }
        }
    }
}
