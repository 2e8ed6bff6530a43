//! What the browser keeps to prove who it is: the signed-in customer's
//! session, and the token of each order placed here as a guest (the only key
//! a guest has to their orders). Both live in local storage, so that they
//! survive a reload; an expired session counts as no session.

use serde::{Deserialize, Serialize};

/// Most guest orders a browser remembers; older ones are forgotten.
pub const MAX_REMEMBERED_ORDERS: usize = 50;
/// Fewest characters a password has (as customer-svc enforces).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// A session this close to its end is treated as ended: a request sent with
/// it could arrive after it expired.
const EXPIRY_MARGIN_MS: f64 = 30_000.0;

/// A signed-in customer, as `POST /api/v1/sessions` granted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub customer_id: String,
    pub email: String,
    /// The customer's name, when customer-svc told it: the checkout's default.
    #[serde(default)]
    pub name: String,
    /// RFC 3339.
    pub expires_at: String,
}

impl Session {
    /// Milliseconds since the epoch at which the session ends; `None` when
    /// `expires_at` cannot be read (the session is then treated as ended).
    pub fn expires_at_ms(&self) -> Option<f64> {
        let ms = web_sys::js_sys::Date::parse(&to_millis(&self.expires_at));
        ms.is_finite().then_some(ms)
    }

    /// Whether the session has ended (or is about to), at `now_ms`.
    pub fn is_expired_at(&self, now_ms: f64) -> bool {
        ended(self.expires_at_ms(), now_ms)
    }
}

/// An RFC 3339 time with at most three decimals of seconds, the precision
/// that JavaScript's `Date.parse` is specified for (servers send up to nine).
pub fn to_millis(rfc3339: &str) -> String {
    let Some(dot) = rfc3339.find('.') else {
        return rfc3339.to_owned();
    };
    let (head, fraction) = rfc3339.split_at(dot + 1);
    let digits = fraction.chars().take_while(char::is_ascii_digit).count();
    if digits <= 3 {
        return rfc3339.to_owned();
    }
    format!("{head}{}{}", &fraction[..3], &fraction[digits..])
}

/// Whether a session ending at `expires_ms` counts as ended at `now_ms`.
fn ended(expires_ms: Option<f64>, now_ms: f64) -> bool {
    expires_ms.is_none_or(|expires| expires - EXPIRY_MARGIN_MS <= now_ms)
}

/// One order placed from this browser as a guest, with the token that opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderToken {
    pub order_id: String,
    pub access_token: String,
}

/// The list with `token` first (once), newest first, at most
/// [`MAX_REMEMBERED_ORDERS`] long.
pub fn remembered(mut tokens: Vec<OrderToken>, token: OrderToken) -> Vec<OrderToken> {
    tokens.retain(|t| t.order_id != token.order_id);
    tokens.insert(0, token);
    tokens.truncate(MAX_REMEMBERED_ORDERS);
    tokens
}

/// Why a password is refused before it is sent, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    (password.chars().count() < MIN_PASSWORD_CHARS)
        .then(|| format!("the password must be at least {MIN_PASSWORD_CHARS} characters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(id: &str) -> OrderToken {
        OrderToken {
            order_id: id.into(),
            access_token: format!("t-{id}"),
        }
    }

    #[test]
    fn a_new_order_comes_first_and_only_once() {
        let tokens = remembered(vec![token("a"), token("b")], token("b"));
        assert_eq!(tokens, vec![token("b"), token("a")]);
        let tokens = remembered(tokens, token("c"));
        assert_eq!(tokens, vec![token("c"), token("b"), token("a")]);
    }

    #[test]
    fn the_oldest_orders_are_forgotten_past_the_bound() {
        let mut tokens = Vec::new();
        for i in 0..MAX_REMEMBERED_ORDERS + 5 {
            tokens = remembered(tokens, token(&i.to_string()));
        }
        assert_eq!(tokens.len(), MAX_REMEMBERED_ORDERS);
        assert_eq!(tokens[0], token(&(MAX_REMEMBERED_ORDERS + 4).to_string()));
        assert_eq!(tokens[MAX_REMEMBERED_ORDERS - 1], token("5"));
    }

    #[test]
    fn a_session_ends_a_little_before_its_expiry_and_when_unreadable() {
        let now = 1_000_000.0;
        assert!(!ended(Some(now + 60_000.0), now));
        assert!(ended(Some(now + 10_000.0), now));
        assert!(ended(Some(now - 1.0), now));
        assert!(ended(None, now));
    }

    #[test]
    fn expiry_times_are_cut_to_milliseconds_for_the_browser() {
        assert_eq!(
            to_millis("2026-12-08T10:11:12.123456789Z"),
            "2026-12-08T10:11:12.123Z"
        );
        assert_eq!(
            to_millis("2026-12-08T10:11:12.5+00:00"),
            "2026-12-08T10:11:12.5+00:00"
        );
        assert_eq!(to_millis("2026-12-08T10:11:12Z"), "2026-12-08T10:11:12Z");
    }

    #[test]
    fn passwords_shorter_than_twelve_characters_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("elevenchars").is_some());
        assert!(password_problem("twelve chars").is_none());
        // Characters, not bytes.
        assert!(password_problem("ééééééééééé").is_some());
    }
}
