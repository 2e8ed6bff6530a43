//! A shopper in a real browser: headless Chromium driven over WebDriver
//! (chromedriver) against both real services and the built UI (`ui/dist`,
//! from `scripts/build-ui.sh`): first as a guest, whose orders this browser
//! remembers, then with an account (sign up, sign out, sign in, check out,
//! and a guest refused the account's email), and last a checkout short of
//! stock; each order's saga timeline read in words along the way. On failure
//! it saves a screenshot to `target/browser-failure.png` (and the page's HTML
//! beside it); the page right after a confirmed checkout goes to
//! `target/ui-screenshot.png`, and the order view with its timeline to
//! `target/screenshots/order-timeline.png` (confirmed) and
//! `order-timeline-from-history.png` (the cancelled order opened from "Your
//! orders") and `order-timeline-rejected.png` (short of stock).

mod account;
mod driver;
mod guest;
mod page;
mod timeline;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use fantoccini::{Client, error::CmdError};
use futures_util::FutureExt;

use crate::harness::*;
use account::shop_with_an_account;
use driver::{Driver, browser};
use guest::shop_as_guest;
use timeline::short_of_stock;

/// The whole journey's bound: only a hang reaches it (every wait inside is
/// bounded by [`PATIENCE`]).
const JOURNEY_BOUND: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn shop(client: &Client, base: &str) -> Result<(), CmdError> {
    shop_as_guest(client, base).await?;
    shop_with_an_account(client).await?;
    short_of_stock(client).await
}

#[tokio::test]
async fn a_shopper_browses_checks_out_as_a_guest_and_with_an_account_in_a_real_browser() {
    let dist = repo_root().join("ui/dist");
    assert!(
        dist.join("index.html").is_file() && dist.join("app_bg.wasm").is_file(),
        "the UI is not built: run scripts/build-ui.sh (scripts/test.sh does)"
    );
    let mut system = System::without_services().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_origin = format!("http://{}", listener.local_addr().unwrap());
    system
        .start_customer_svc_with(&[("CORS_ORIGINS", shop_origin.as_str())])
        .await;
    let customer_api = system.customer_url("");
    system
        .start_order_svc_on(
            listener,
            &[
                ("UI_DIR", dist.to_str().unwrap()),
                ("CUSTOMER_API_URL", customer_api.as_str()),
            ],
        )
        .await;

    let driver = Driver::start();
    let profile = std::env::temp_dir().join(format!("chromium-{}", uuid::Uuid::new_v4().simple()));
    let client = browser(&driver, &profile).await;
    // A failed assertion panics: catch it, so that the screenshot is taken and
    // the browser closed before the test fails.
    let journey = std::panic::AssertUnwindSafe(shop(&client, &shop_origin)).catch_unwind();
    let outcome = tokio::time::timeout(JOURNEY_BOUND, journey).await;
    let screenshot = client.screenshot().await;
    let target = repo_root().join("target");
    let passed = matches!(outcome, Ok(Ok(Ok(()))));
    if let (false, Ok(png)) = (passed, &screenshot) {
        let _ = std::fs::write(target.join("browser-failure.png"), png);
    }
    if !passed && let Ok(html) = client.source().await {
        let _ = std::fs::write(target.join("browser-failure.html"), html);
    }
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    system.stop().await;
    match outcome {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => {
            panic!("browser command failed: {error} (screenshot: target/browser-failure.png)")
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!(
            "the shopper's journey took over {JOURNEY_BOUND:?} (screenshot: target/browser-failure.png)"
        ),
    }
}
