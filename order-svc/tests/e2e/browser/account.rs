//! The account's part of the journey: sign-up, sign-out, sign-in, a checkout
//! in the account's history, and a guest refused the account's email.

use fantoccini::{Client, error::CmdError};

use super::{
    page::{click, type_into, wait_texts, wait_value},
    timeline::{CONFIRMED, expect_timeline},
};

/// A customer with an account: signs up (and is signed in), sees an empty
/// history, signs out (back to this browser's guest order), fails to sign in
/// with a wrong password, signs in, checks out with the account, sees the
/// order in the account's history; then, signed out, a guest checkout with
/// the account's email is refused with `sign_in_required`, in words.
/// Expects the cart to hold one item, and the guest's one order.
pub(super) async fn shop_with_an_account(client: &Client) -> Result<(), CmdError> {
    let email = format!("account-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "a long enough password";

    // Sign up: signed in at once, with an empty history of its own.
    type_into(client, "signup-email", &email).await?;
    type_into(client, "signup-name", "Ada Account").await?;
    type_into(client, "signup-password", "too short").await?;
    click(client, "[data-testid=signup-submit]").await?;
    wait_texts(client, ".field-error", "a short password refused", |t| {
        t.iter().any(|e| e.contains("at least 12 characters"))
    })
    .await;
    type_into(client, "signup-password", password).await?;
    click(client, "[data-testid=signup-submit]").await?;
    wait_texts(
        client,
        "[data-testid=signed-in-as]",
        "signed in after signing up",
        |t| t == [email.as_str()],
    )
    .await;
    wait_texts(client, ".stats", "the account's own, empty, history", |t| {
        t.len() == 1 && t[0].contains(&email) && t[0].contains("0 order(s)")
    })
    .await;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "no guest order in the account's history",
        |t| t.is_empty(),
    )
    .await;

    // Sign out: this browser's guest order again.
    click(client, "[data-testid=signout]").await?;
    wait_texts(client, "[data-testid=signed-in-as]", "signed out", |t| {
        t.is_empty()
    })
    .await;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the guest's order back after signing out",
        |t| t.len() == 1,
    )
    .await;

    // A wrong password is refused in words; the right one signs in.
    type_into(client, "signin-email", &email).await?;
    type_into(client, "signin-password", "not the password at all").await?;
    click(client, "[data-testid=signin-submit]").await?;
    wait_texts(
        client,
        "[data-testid=auth-error]",
        "a wrong password refused",
        |t| t.len() == 1 && t[0].contains("do not match"),
    )
    .await;
    type_into(client, "signin-password", password).await?;
    click(client, "[data-testid=signin-submit]").await?;
    wait_texts(client, "[data-testid=signed-in-as]", "signed in", |t| {
        t == [email.as_str()]
    })
    .await;
    wait_texts(client, "[data-testid=auth-error]", "the error gone", |t| {
        t.is_empty()
    })
    .await;

    // A checkout signed in: the account's email, and its history grows.
    wait_value(
        client,
        "checkout-email",
        "the account's email to check out with",
        |v| v == email,
    )
    .await;
    type_into(client, "checkout-name", "Ada Account").await?;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "the item still in the cart",
        |t| t == ["1"],
    )
    .await;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(
        client,
        "[data-testid=order-status]",
        "the account's order confirmed",
        |t| t == ["confirmed"],
    )
    .await;
    expect_timeline(client, "the account's order's timeline", &CONFIRMED).await;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the order in the account's history",
        |t| t.len() == 1 && t[0].contains("confirmed"),
    )
    .await;
    wait_texts(client, ".stats", "the account's statistics", |t| {
        t.len() == 1 && t[0].contains("1 order(s)")
    })
    .await;

    // Signed out, a guest may not order with the account's email.
    click(client, "[data-testid=signout]").await?;
    wait_texts(
        client,
        "[data-testid=signed-in-as]",
        "signed out again",
        |t| t.is_empty(),
    )
    .await;
    click(
        client,
        "[data-testid=product-card] [data-testid=add-to-cart]",
    )
    .await?;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "an item to order as a guest",
        |t| t == ["1"],
    )
    .await;
    type_into(client, "checkout-email", &email).await?;
    type_into(client, "checkout-name", "Eve Guest").await?;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(
        client,
        "[data-testid=order-status]",
        "the guest refused the account's email",
        |t| t == ["rejected"],
    )
    .await;
    let reason = wait_texts(
        client,
        "[data-testid=order-reason]",
        "the reason shown",
        |t| t.len() == 1,
    )
    .await;
    assert!(
        reason[0].contains("belongs to an account") && reason[0].contains("Sign in"),
        "sign_in_required in words: {reason:?}"
    );
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "only the guest's own order in this browser's orders",
        |t| t.len() == 1,
    )
    .await;
    Ok(())
}
