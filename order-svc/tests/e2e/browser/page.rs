//! Reading and acting on the page as a shopper would: texts waited for,
//! inputs typed into, buttons clicked, each retried while the page renders.

use std::time::Duration;

use fantoccini::{Client, Locator, error::CmdError};

use crate::harness::{PATIENCE, eventually};

async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap_or_default() {
        texts.push(element.text().await.unwrap_or_default());
    }
    texts
}

/// Waits until the elements matching `css` have texts `done` accepts.
pub(super) async fn wait_texts(
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

pub(super) async fn type_into(client: &Client, test_id: &str, text: &str) -> Result<(), CmdError> {
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
pub(super) async fn wait_value(
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

pub(super) async fn click(client: &Client, css: &str) -> Result<(), CmdError> {
    on_element(client, css, |element| async move { element.click().await }).await
}
