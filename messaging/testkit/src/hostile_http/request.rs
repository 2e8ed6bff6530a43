//! A request as a service's test plans it: path, caller, headers and body,
//! with slots for what exists only once the service runs; rendered into a
//! [`Sent`] request.

use proptest::sample::Index;
use reqwest::{Method, header::HeaderValue};

use super::{Body, Sent};

/// A piece of a path.
#[derive(Debug, Clone)]
pub enum Part<S> {
    /// Written as is (may hold several segments).
    Lit(&'static str),
    /// Filled in when the service runs (an id).
    Slot(S),
    /// One segment, already encoded as sent.
    Raw(String),
}

/// Who sends a request: its `Authorization` header.
#[derive(Debug, Clone)]
pub enum Auth<S> {
    /// No header.
    Anonymous,
    /// The admin token.
    Admin,
    /// A shopper's token, filled in when the service runs.
    Bearer(S),
    /// That token with the byte at `Index` replaced.
    Mangled(S, Index, u8),
    /// These bytes.
    Header(Vec<u8>),
}

/// One request, before what exists only at run time is filled in.
#[derive(Debug, Clone)]
pub struct Plan<S> {
    /// The HTTP method.
    pub method: String,
    /// The path, in parts.
    pub path: Vec<Part<S>>,
    /// `?...`, encoded as sent (or not encoded at all).
    pub query: String,
    /// Who the request claims to be.
    pub auth: Auth<S>,
    /// Extra headers, as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Body,
    /// The `Content-Type`, as raw bytes (none: the body's own).
    pub content_type: Option<Vec<u8>>,
}

impl<S> Plan<S> {
    /// A `method` request to `path`, anonymous, without a body.
    pub fn call(method: &str, path: Vec<Part<S>>) -> Self {
        Self {
            method: method.to_owned(),
            path,
            query: String::new(),
            auth: Auth::Anonymous,
            headers: Vec::new(),
            body: Body::None,
            content_type: None,
        }
    }

    /// A `GET` of `path` with `query`.
    pub fn get(path: Vec<Part<S>>, query: String) -> Self {
        Self {
            query,
            ..Self::call("GET", path)
        }
    }

    /// With a JSON body, sent as `application/json`.
    pub fn with_body(self, body: Body) -> Self {
        Self {
            content_type: (!matches!(body, Body::None)).then(|| b"application/json".to_vec()),
            body,
            ..self
        }
    }

    /// The request itself, with every slot filled in by `fill`.
    pub fn render(
        &self,
        index: usize,
        base: &str,
        admin_token: &str,
        fill: &dyn Fn(&S) -> String,
        client: &reqwest::Client,
    ) -> Sent {
        let mut path = String::new();
        for part in &self.path {
            path.push('/');
            match part {
                Part::Lit(text) => path.push_str(text),
                Part::Slot(slot) => path.push_str(&fill(slot)),
                Part::Raw(text) => path.push_str(text),
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        let mut headers = self.headers.clone();
        let bearer = |token: &str| format!("Bearer {token}").into_bytes();
        match &self.auth {
            Auth::Anonymous => {}
            Auth::Admin => headers.push(("authorization".into(), bearer(admin_token))),
            Auth::Bearer(slot) => headers.push(("authorization".into(), bearer(&fill(slot)))),
            Auth::Mangled(slot, at, byte) => {
                let mut token = fill(slot).into_bytes();
                if !token.is_empty() {
                    let at = at.index(token.len());
                    token[at] = if token[at] == *byte { b'~' } else { *byte };
                }
                headers.push((
                    "authorization".into(),
                    bearer(&String::from_utf8_lossy(&token)),
                ));
            }
            Auth::Header(bytes) => headers.push(("authorization".into(), bytes.clone())),
        }
        if let Some(content_type) = &self.content_type {
            headers.push(("content-type".into(), content_type.clone()));
        }
        // Only what an HTTP client can send at all: no CR, LF or NUL.
        headers.retain(|(_, value)| HeaderValue::from_bytes(value).is_ok());
        let method = Method::from_bytes(self.method.as_bytes()).unwrap_or(Method::GET);
        let url = format!("{}{path}{}", base.trim_end_matches('/'), self.query);
        let body = self.body.bytes();
        let mut builder = client.request(method.clone(), &url);
        for (name, value) in &headers {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                builder = builder.header(name.as_str(), value);
            }
        }
        if let Some(body) = &body {
            builder = builder.body(body.clone());
        }
        let request = builder.build();
        Sent {
            index,
            method,
            url: request
                .as_ref()
                .map_or_else(|_| url.clone(), |r| r.url().to_string()),
            headers,
            body,
            request: request.map_err(|e| e.to_string()),
        }
    }
}

/// Renders every plan against `base`, in order (each request's index is its
/// place in the list).
pub fn render_all<S>(
    plans: &[Plan<S>],
    base: &str,
    admin_token: &str,
    fill: &dyn Fn(&S) -> String,
    client: &reqwest::Client,
) -> Vec<Sent> {
    plans
        .iter()
        .enumerate()
        .map(|(index, plan)| plan.render(index, base, admin_token, fill, client))
        .collect()
}

/// Fails unless `generate` gives `total` plans, the same ones every time
/// (a failure must be reproduced by running the test again).
pub fn assert_deterministic<S: std::fmt::Debug>(generate: impl Fn() -> Vec<Plan<S>>, total: usize) {
    let first: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    let again: Vec<String> = generate().iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(first.len(), total);
    assert!(first == again, "the generator is not deterministic");
}
