//! A shopper in a real browser: headless Chromium driven over WebDriver
//! (chromedriver) against both real services and the built UI (`ui/dist`,
//! from `scripts/build-ui.sh`): first as a guest, whose orders this browser
//! remembers, then with an account (sign up, sign out, sign in, check out,
//! and a guest refused the account's email). On failure it saves a screenshot to
//! `target/browser-failure.png` (and the page's HTML beside it); the page
//! right after a confirmed checkout goes to `target/ui-screenshot.png`.

use std::{
    net::TcpListener as StdListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, error::CmdError, wd::Capabilities};
use futures_util::FutureExt;
use serde_json::json;

use crate::harness::*;

/// The whole journey's bound: only a hang reaches it (every wait inside is
/// bounded by [`PATIENCE`]).
const JOURNEY_BOUND: Duration = Duration::from_secs(300);

/// Kills chromedriver (and with it Chromium) however the test ends.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut capabilities = Capabilities::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    eventually(PATIENCE, "chromedriver to accept a session", || async {
        ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await
            .ok()
    })
    .await
}

async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap_or_default() {
        texts.push(element.text().await.unwrap_or_default());
    }
    texts
}

/// Waits until the elements matching `css` have texts `done` accepts.
async fn wait_texts(
    client: &Client,
    css: &str,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    eventually(PATIENCE, what, || async {
        let found = texts(client, css).await;
        done(&found).then_some(found)
    })
    .await
}

/// Runs `act` on the element `css` finds, finding it again when the page
/// re-rendered it in between (a stale element) or has not rendered it yet
/// (a form that appears on signing in or out), for up to [`PATIENCE`].
async fn on_element<F, Fut>(client: &Client, css: &str, act: F) -> Result<(), CmdError>
where
    F: Fn(fantoccini::elements::Element) -> Fut,
    Fut: std::future::Future<Output = Result<(), CmdError>>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let outcome = match client.find(Locator::Css(css)).await {
            Ok(element) => act(element).await,
            Err(error) => Err(error),
        };
        match outcome {
            Err(error)
                if (error.is_stale_element_reference() || error.is_no_such_element())
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            other => return other,
        }
    }
}

async fn type_into(client: &Client, test_id: &str, text: &str) -> Result<(), CmdError> {
    on_element(
        client,
        &format!("[data-testid={test_id}]"),
        |input| async move {
            input.clear().await?;
            input.send_keys(text).await
        },
    )
    .await
}

/// Waits until the input with `data-testid=test_id` holds a value `done`
/// accepts; returns it.
async fn wait_value(
    client: &Client,
    test_id: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let css = format!("[data-testid={test_id}]");
    eventually(PATIENCE, what, || async {
        let input = client.find(Locator::Css(&css)).await.ok()?;
        let value = input.prop("value").await.ok()??;
        done(value.as_str()).then_some(value)
    })
    .await
}

async fn click(client: &Client, css: &str) -> Result<(), CmdError> {
    on_element(client, css, |element| async move { element.click().await }).await
}

/// A guest: checks out, sees and cancels the order in "Your orders" (this
/// browser's), keeps cart and orders over a reload, is refused for a blocked
/// customer and for an invalid email. Leaves one item in the cart.
async fn shop_as_guest(client: &Client, base: &str) -> Result<(), CmdError> {
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

    // Cancel it from the history.
    click(client, "[data-testid=order-history-row] button").await?;
    wait_texts(
        client,
        "[data-testid=order-history-row]",
        "the order cancelled",
        |t| t.len() == 1 && t[0].contains("cancelled"),
    )
    .await;

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

/// A customer with an account: signs up (and is signed in), sees an empty
/// history, signs out (back to this browser's guest order), fails to sign in
/// with a wrong password, signs in, checks out with the account, sees the
/// order in the account's history; then, signed out, a guest checkout with
/// the account's email is refused with `sign_in_required`, in words.
/// Expects the cart to hold one item, and the guest's one order.
async fn shop_with_an_account(client: &Client) -> Result<(), CmdError> {
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

async fn shop(client: &Client, base: &str) -> Result<(), CmdError> {
    shop_as_guest(client, base).await?;
    shop_with_an_account(client).await
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
