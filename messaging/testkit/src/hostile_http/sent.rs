//! A request as rendered and sent, shown in full when a check fails; and
//! sending them all, a few at a time.

use std::fmt;

use futures_util::{StreamExt, stream};
use reqwest::Method;

use super::{Answer, IN_FLIGHT, shown};

/// A request as sent; its `Display` is what a failure shows.
pub struct Sent {
    /// Its place in the run.
    pub index: usize,
    /// The HTTP method.
    pub method: Method,
    /// As sent: the client normalises dot segments and encodes what it must.
    pub url: String,
    /// The headers sent, as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body sent.
    pub body: Option<Vec<u8>>,
    pub(super) request: Result<reqwest::Request, String>,
}

impl Sent {
    /// Sends it; an error or a timeout is an answer with status 0.
    pub async fn send(&self, client: &reqwest::Client) -> Answer {
        let request = match &self.request {
            Ok(request) => request
                .try_clone()
                .ok_or("the request cannot be cloned".to_owned()),
            Err(error) => Err(error.clone()),
        };
        let outcome = match request {
            Ok(request) => match client.execute(request).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let content_type = response
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    match response.bytes().await {
                        Ok(body) => Ok((status, content_type, body.to_vec())),
                        Err(error) => Err(format!("the answer's body could not be read: {error}")),
                    }
                }
                Err(error) => Err(format!("no answer: {error}")),
            },
            Err(error) => Err(format!("not sent: {error}")),
        };
        Answer {
            head: self.method == Method::HEAD,
            outcome,
        }
    }

    /// The path as sent.
    pub fn path(&self) -> String {
        reqwest::Url::parse(&self.url)
            .map_or_else(|_| self.url.clone(), |url| url.path().to_owned())
    }

    /// The path's non-empty segments.
    pub fn segments(&self) -> Vec<String> {
        self.path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// True when it sent `name`.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }

    /// True when its body holds `needle`.
    pub fn body_contains(&self, needle: &str) -> bool {
        self.body
            .as_ref()
            .is_some_and(|b| String::from_utf8_lossy(b).contains(needle))
    }
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "request #{} (generated from the fixed seed):",
            self.index
        )?;
        writeln!(f, "  {} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "  {name}: {}", shown(value))?;
        }
        match &self.body {
            Some(body) => write!(f, "  body ({} bytes): {}", body.len(), shown(body)),
            None => write!(f, "  no body"),
        }
    }
}

/// Sends every request, [`IN_FLIGHT`] at a time; the answers in order.
pub async fn send_all(client: &reqwest::Client, requests: &[Sent]) -> Vec<Answer> {
    stream::iter(requests.iter().map(|sent| sent.send(client)))
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

/// The first requests `matches` picks (the ones that may have written a row
/// nothing accounts for), shown in full, for a failure's message.
pub fn suspects(requests: &[Sent], matches: impl Fn(&Sent) -> bool) -> String {
    requests
        .iter()
        .filter(|sent| matches(sent))
        .take(3)
        .map(Sent::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A text field of a row snapshotted as JSON (empty when it has none).
pub fn row_field(row: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(row)
        .ok()
        .and_then(|row| row[name].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The writes that succeeded: each request that is not a `GET` and was
/// answered 2xx, with its answer; what a fuzz test accounts rows for.
pub fn successful_writes<'a>(
    requests: &'a [Sent],
    answers: &'a [super::Answer],
) -> impl Iterator<Item = (&'a Sent, &'a super::Answer)> {
    requests
        .iter()
        .zip(answers)
        .filter(|(sent, answer)| answer.is_success() && sent.method != reqwest::Method::GET)
}
