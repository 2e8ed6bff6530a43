//! The guest's part of the journey: a checkout and its timeline, its order in
//! this browser's history, a cancellation, a reload, the order opened from
//! the history, and two refused checkouts.

use fantoccini::{Client, error::CmdError};

use super::{
    page::{click, type_into, wait_texts},
    repo_root,
    timeline::{CONFIRMED, expect_timeline, in_sight, screenshot},
};

/// A guest: checks out and reads the order's timeline, sees and cancels the
/// order in "Your orders" (this browser's), keeps cart and orders over a
/// reload, opens the order from the history, is refused for a blocked
/// customer (the timeline says why) and for an invalid email. Leaves one
/// item in the cart.
pub(super) async fn shop_as_guest(client: &Client, base: &str) -> Result<(), CmdError> {
    client.goto(base).await?;
    let cards = wait_texts(
        client,
        "[data-testid=product-card]",
        "products on the page",
        |t| !t.is_empty(),
    )
    .await;
    assert!(
        cards[0].contains("EUR"),
        "a card shows its price: {cards:?}"
    );

    click(
        client,
        "[data-testid=product-card] [data-testid=add-to-cart]",
    )
    .await?;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "one item in the cart",
        |t| t == ["1"],
    )
    .await;
    type_into(client, "checkout-email", "browser@example.com").await?;
    type_into(client, "checkout-name", "Brow Ser").await?;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(
        client,
        "[data-testid=order-status]",
        "the order confirmed",
        |t| t == ["confirmed"],
    )
    .await;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "the cart emptied",
        |t| t == ["0"],
    )
    .await;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the guest's order in this browser's orders",
        |t| t.len() == 1 && t[0].contains("confirmed"),
    )
    .await;
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(repo_root().join("target/ui-screenshot.png"), png);
    }
    // The order just placed opens with its story, in words.
    expect_timeline(client, "the confirmed order's timeline", &CONFIRMED).await;
    screenshot(client, "order-timeline").await?;
    let stock_before = cards[0]
        .lines()
        .find(|l| l.ends_with("in stock"))
        .unwrap_or("")
        .to_owned();
    wait_texts(
        client,
        "[data-testid=product-card]",
        "the stock shown to go down",
        |t| !t.is_empty() && !t[0].contains(&stock_before),
    )
    .await;

    // Cancel it from the history: its open timeline tells of it.
    click(
        client,
        "[data-testid=order-history-row] [data-testid=order-cancel]",
    )
    .await?;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the order cancelled",
        |t| t.len() == 1 && t[0].contains("cancelled"),
    )
    .await;
    let cancelled = [CONFIRMED.as_slice(), &["Cancelled"]].concat();
    expect_timeline(client, "the cancellation on the timeline", &cancelled).await;

    // The cart survives a reload.
    click(
        client,
        "[data-testid=product-card] [data-testid=add-to-cart]",
    )
    .await?;
    wait_texts(client, "[data-testid=cart-count]", "one item again", |t| {
        t == ["1"]
    })
    .await;
    client.refresh().await?;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "the cart kept after a reload",
        |t| t == ["1"],
    )
    .await;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the history kept after a reload",
        |t| t.len() == 1,
    )
    .await;
    // Opened from the history after the reload, with its whole story.
    wait_texts(
        client,
        "[data-testid=order-timeline-entry]",
        "no order open after a reload",
        |t| t.is_empty(),
    )
    .await;
    click(
        client,
        "[data-testid=order-history-row] [data-testid=order-history-open]",
    )
    .await?;
    let entries = expect_timeline(client, "the order opened from the history", &cancelled).await;
    in_sight(client, "order-view").await;
    screenshot(client, "order-timeline-from-history").await?;
    assert!(
        entries[4].contains("back into stock"),
        "the cancellation says what was given back: {entries:?}"
    );

    // A refused checkout says why, in words.
    type_into(client, "checkout-email", "blocked@example.com").await?;
    type_into(client, "checkout-name", "Mallory").await?;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(
        client,
        "[data-testid=order-status]",
        "the order rejected",
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
        reason[0].contains("blocked"),
        "the reason in words: {reason:?}"
    );
    expect_timeline(
        client,
        "the refusal on the timeline",
        &["Order recorded", "Rejected: your account is blocked"],
    )
    .await;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "the cart kept for another try",
        |t| t == ["1"],
    )
    .await;

    // An invalid email is caught before anything is sent, as the server would.
    type_into(client, "checkout-email", "not-an-email").await?;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(client, ".field-error", "the email refused", |t| {
        t.iter().any(|e| e.contains("not a valid email"))
    })
    .await;
    Ok(())
}
