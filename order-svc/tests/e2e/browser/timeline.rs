//! The order view's saga timeline as the buyer reads it: the words of its
//! entries waited for and asserted, screenshots of it for people to look at,
//! and the journey's last part, a checkout short of stock whose timeline
//! says what was undone and why.

use fantoccini::{Client, error::CmdError};

use super::{
    page::{click, type_into, wait_texts},
    repo_root,
};
use crate::harness::{PATIENCE, eventually};

/// A confirmed order's story.
pub(super) const CONFIRMED: [&str; 4] = [
    "Order recorded",
    "Customer verified and credit reserved",
    "Stock reserved",
    "Confirmed",
];

/// Waits until the order view's timeline reads `expected`, entry by entry,
/// oldest first; checks that every entry shows its time. Returns the
/// entries' whole texts.
pub(super) async fn expect_timeline(client: &Client, what: &str, expected: &[&str]) -> Vec<String> {
    wait_texts(client, "[data-testid=order-timeline-what]", what, |t| {
        t == expected
    })
    .await;
    let entries = wait_texts(
        client,
        "[data-testid=order-timeline] [data-testid=order-timeline-entry]",
        "the timeline's entries",
        |t| t.len() == expected.len(),
    )
    .await;
    for (entry, title) in entries.iter().zip(expected) {
        assert!(
            entry.starts_with(title) && has_a_time(entry),
            "an entry shows its words and then its time: {entry:?}"
        );
    }
    entries
}

/// Whether `text` holds a time of day (`14:03:59`).
fn has_a_time(text: &str) -> bool {
    text.as_bytes().windows(8).any(|w| {
        w.iter().enumerate().all(|(i, b)| match i {
            2 | 5 => *b == b':',
            _ => b.is_ascii_digit(),
        })
    })
}

/// Waits until the element with `data-testid=test_id` has its top in the
/// upper half of the window (scrolled into sight, below the sticky header).
pub(super) async fn in_sight(client: &Client, test_id: &str) {
    let script = format!(
        "const top = document.querySelector('[data-testid={test_id}]').getBoundingClientRect().top;
         return top >= 0 && top < window.innerHeight / 2;"
    );
    eventually(PATIENCE, "the order view scrolled into sight", || async {
        let seen = client.execute(&script, Vec::new()).await.ok()?;
        (seen == serde_json::Value::Bool(true)).then_some(())
    })
    .await
}

/// Saves a screenshot of the page (WebDriver's screenshot command) as
/// `target/screenshots/{name}.png`.
pub(super) async fn screenshot(client: &Client, name: &str) -> Result<(), CmdError> {
    let png = client.screenshot().await?;
    let dir = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots can be created");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
    Ok(())
}

/// A guest orders one more than the stock of the item in the cart: customer-svc
/// reserves the credit, the stock falls short, and the order is rejected and
/// the credit released; the timeline says so in words. Expects the cart to
/// hold the first product, and nobody signed in.
pub(super) async fn short_of_stock(client: &Client) -> Result<(), CmdError> {
    let cards = wait_texts(
        client,
        "[data-testid=product-card]",
        "products on the page",
        |t| !t.is_empty(),
    )
    .await;
    let stock: u32 = cards[0]
        .lines()
        .find_map(|l| l.strip_suffix(" in stock"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the first card shows its stock: {:?}", cards[0]));
    let wanted = (stock + 1).to_string();
    type_into(client, "cart-quantity", &wanted).await?;
    // Leaving the field commits the quantity.
    type_into(client, "checkout-email", "short-of-stock@example.com").await?;
    type_into(client, "checkout-name", "Shor Tage").await?;
    wait_texts(
        client,
        "[data-testid=cart-count]",
        "one more than the stock in the cart",
        |t| t == [wanted.as_str()],
    )
    .await;
    click(client, "[data-testid=checkout-submit]").await?;
    wait_texts(
        client,
        "[data-testid=order-status]",
        "the order rejected for want of stock",
        |t| t == ["rejected"],
    )
    .await;
    let entries = expect_timeline(
        client,
        "what was undone, and why",
        &[
            "Order recorded",
            "Customer verified and credit reserved",
            "Rejected: not enough stock",
            "Credit released",
        ],
    )
    .await;
    assert!(
        entries[3].contains("Nothing is charged"),
        "the release says what it means: {entries:?}"
    );
    screenshot(client, "order-timeline-rejected").await
}
