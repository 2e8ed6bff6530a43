//! Who is calling, and what they may do: the contract's "Who may do what".
//!
//! A request carries no token (anyone), the admin token (everything), or a
//! shopper's access token (a customer's own records, or one order). A token
//! that is present but not valid is a 401, never silently anonymous. The
//! decisions live here, once, so that both services answer alike: anonymous
//! where a token is needed → 401; a valid token for something else → 403, or
//! 404 where even the existence of the thing is not the caller's business
//! (someone else's order).

use std::sync::Arc;

use subtle::ConstantTimeEq;
use uuid::Uuid;
use warp::{Filter, Rejection};

use super::{
    error::ApiError,
    tokens::{AccessTokens, Grant},
};

/// What checking a caller needs: the admin token and the token keys. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Access {
    admin_token: Arc<str>,
    tokens: AccessTokens,
}

impl Access {
    /// Checks callers against `admin_token` and `tokens`.
    pub fn new(admin_token: &str, tokens: AccessTokens) -> Self {
        Self {
            admin_token: Arc::from(admin_token),
            tokens,
        }
    }

    /// The token issuer (sign-in, checkout answers).
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// Reads an `Authorization` header: none is anonymous; the admin token
    /// (compared in constant time) is the admin; a valid access token is what
    /// it grants; anything else is a 401.
    pub fn caller(&self, header: Option<&str>) -> Result<Caller, ApiError> {
        let Some(header) = header else {
            return Ok(Caller::Anonymous);
        };
        let presented = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        if presented.is_empty() {
            return Err(ApiError::Unauthorized);
        }
        if bool::from(presented.as_bytes().ct_eq(self.admin_token.as_bytes())) {
            return Ok(Caller::Admin);
        }
        match self.tokens.check(presented) {
            Ok(Grant::Customer { id, email }) => Ok(Caller::Customer { id, email }),
            Ok(Grant::Order(id)) => Ok(Caller::Order(id)),
            Err(refused) => {
                tracing::debug!(%refused, "bearer token refused");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

/// Who is calling, from the `Authorization` header.
pub fn caller(access: Access) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |header: Option<String>| {
        let caller = access.caller(header.as_deref());
        async move { caller.map_err(warp::reject::custom) }
    })
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Presented the admin token.
    Admin,
    /// A signed-in customer.
    Customer {
        /// The customer.
        id: Uuid,
        /// Their email.
        email: String,
    },
    /// Holds one order's token.
    Order(Uuid),
    /// Presented no token.
    Anonymous,
}

impl Caller {
    /// 401 for anyone without a token; 403 for a shopper.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Anonymous => Err(ApiError::Unauthorized),
            Caller::Customer { .. } | Caller::Order(_) => {
                Err(ApiError::Forbidden("this needs the admin token".to_owned()))
            }
        }
    }

    /// A 403 naming `what` unless the caller is the admin.
    pub fn require_admin_for(&self, what: &str) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            _ => Err(ApiError::Forbidden(format!(
                "{what} can only be set with the admin token"
            ))),
        }
    }

    /// A 401 for anyone without a token: checked before anything is looked up.
    pub fn require_token(&self) -> Result<(), ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::Unauthorized),
            _ => Ok(()),
        }
    }

    /// The admin, or the customer `id` signed in; else 401 or 403.
    pub fn require_customer(&self, id: Uuid) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Customer { id: own, .. } if *own == id => Ok(()),
            Caller::Anonymous => Err(ApiError::Unauthorized),
            _ => Err(ApiError::Forbidden(
                "this token does not open that customer's records".to_owned(),
            )),
        }
    }

    /// The admin, the order's own token, or its customer signed in; else 401,
    /// or a 404 as if the order did not exist.
    pub fn require_order(&self, order_id: Uuid, owner: Option<Uuid>) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Order(id) if *id == order_id => Ok(()),
            Caller::Customer { id, .. } if owner == Some(*id) => Ok(()),
            Caller::Anonymous => Err(ApiError::Unauthorized),
            _ => Err(ApiError::NotFound("order")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn access() -> Access {
        Access::new(
            "admin-t",
            AccessTokens::new(b"secret for tests", Duration::from_secs(60)),
        )
    }

    fn status(result: Result<(), ApiError>) -> u16 {
        match result {
            Ok(()) => 200,
            Err(error) => error.response().status().as_u16(),
        }
    }

    #[test]
    fn the_header_decides_the_caller() {
        let access = access();
        assert_eq!(access.caller(None).unwrap(), Caller::Anonymous);
        assert_eq!(
            access.caller(Some("Bearer admin-t")).unwrap(),
            Caller::Admin
        );
        assert!(access.caller(Some("Bearer admin-x")).is_err());
        assert!(access.caller(Some("admin-t")).is_err());
        assert!(access.caller(Some("Bearer ")).is_err());
        let id = Uuid::new_v4();
        let token = access.tokens().for_order(id).unwrap().token;
        assert_eq!(
            access.caller(Some(&format!("Bearer {token}"))).unwrap(),
            Caller::Order(id)
        );
    }

    #[test]
    fn customers_open_their_own_records_only() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let customer = Caller::Customer {
            id: me,
            email: "me@example.com".into(),
        };
        assert_eq!(status(customer.require_customer(me)), 200);
        assert_eq!(status(customer.require_customer(other)), 403);
        assert_eq!(status(Caller::Anonymous.require_customer(me)), 401);
        assert_eq!(status(Caller::Order(me).require_customer(me)), 403);
        assert_eq!(status(Caller::Admin.require_customer(other)), 200);
        assert_eq!(status(customer.require_admin()), 403);
        assert_eq!(status(Caller::Anonymous.require_admin()), 401);
    }

    #[test]
    fn orders_open_to_their_token_their_customer_and_the_admin() {
        let (order, me) = (Uuid::new_v4(), Uuid::new_v4());
        let customer = Caller::Customer {
            id: me,
            email: "me@example.com".into(),
        };
        assert_eq!(status(Caller::Order(order).require_order(order, None)), 200);
        assert_eq!(
            status(Caller::Order(Uuid::new_v4()).require_order(order, None)),
            404
        );
        assert_eq!(status(customer.require_order(order, Some(me))), 200);
        assert_eq!(
            status(customer.require_order(order, Some(Uuid::new_v4()))),
            404
        );
        assert_eq!(status(customer.require_order(order, None)), 404);
        assert_eq!(status(Caller::Anonymous.require_order(order, None)), 401);
        assert_eq!(status(Caller::Admin.require_order(order, None)), 200);
    }
}

#[cfg(test)]
mod props {
    //! The `Authorization` header on hostile input: the admin only with the
    //! admin token, anything unreadable a 401, never a panic.

    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use testkit::hostile::{config, hostile_text};

    const ADMIN: &str = "admin-token-for-props";

    fn access() -> Access {
        Access::new(
            ADMIN,
            AccessTokens::new(b"secret for props", Duration::from_secs(60)),
        )
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_garbage_header_is_a_401_never_the_admin(
            scheme in prop::sample::select(vec!["", "Bearer ", "bearer ", "Basic ", "Bearer", "BEARER "]),
            raw in hostile_text(),
        ) {
            let header = format!("{scheme}{raw}");
            let is_admin = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim) == Some(ADMIN);
            match access().caller(Some(&header)) {
                Ok(Caller::Admin) => prop_assert!(is_admin, "{:?} made the admin", header),
                Ok(other) => prop_assert!(false, "{:?} made {:?}", header, other),
                Err(refused) => {
                    prop_assert!(!is_admin);
                    prop_assert_eq!(refused.response().status().as_u16(), 401);
                }
            }
        }

        #[test]
        fn the_admin_token_changed_or_cut_is_refused(
            at in any::<prop::sample::Index>(),
            replacement in prop::char::any(),
            cut in 0_usize..ADMIN.len(),
        ) {
            let mut chars: Vec<char> = ADMIN.chars().collect();
            let at = at.index(chars.len());
            prop_assume!(chars[at] != replacement && !replacement.is_whitespace());
            chars[at] = replacement;
            let changed: String = chars.into_iter().collect();
            let changed = format!("Bearer {changed}");
            prop_assert!(access().caller(Some(&changed)).is_err(), "{:?} accepted", changed);
            let cut = format!("Bearer {}", &ADMIN[..cut]);
            prop_assert!(access().caller(Some(&cut)).is_err(), "{:?} accepted", cut);
        }
    }
}
