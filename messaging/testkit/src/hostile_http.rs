//! Hostile HTTP requests against a real service, for the fuzz tests of both
//! services (`order-svc/tests/e2e/fuzz.rs`, `customer-svc/tests/api/fuzz.rs`);
//! the conventions it checks are the shared edge's.
//!
//! A service's test describes its routes as [`Plan`]s, strategies of
//! proptest, with placeholders (`S`) for what exists only once the service
//! runs (ids, tokens); [`generate`] draws them from one fixed seed, so that
//! every run sends the same requests; [`Plan::render`] fills the placeholders
//! in; [`send_all`] sends them; [`Answer::problem`] says what is wrong with
//! an answer (a 5xx, a 4xx outside the contract's error shape); a failure
//! shows the exact request ([`Sent`]'s `Display`).

use std::{collections::BTreeMap, fmt, time::Duration};

use futures_util::{StreamExt, stream};
use proptest::{
    prelude::*,
    sample::Index,
    strategy::ValueTree,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use reqwest::{Method, header::HeaderValue};
use serde_json::Value;
use uuid::Uuid;

/// Requests in flight at once.
pub const IN_FLIGHT: usize = 4;
/// The longest a request may take before it counts as unanswered.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `plans`, then requests drawn from `strategy` until there are `total`,
/// from one fixed seed: the same requests every run.
pub fn generate<T>(mut plans: Vec<T>, strategy: impl Strategy<Value = T>, total: usize) -> Vec<T> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    while plans.len() < total {
        let tree = strategy.new_tree(&mut runner).expect("a request");
        plans.push(tree.current());
    }
    plans
}

/// The HTTP client the requests go out with.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

// ------------------------------------------------------------ requests

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
    pub method: String,
    pub path: Vec<Part<S>>,
    /// `?...`, encoded as sent (or not encoded at all).
    pub query: String,
    pub auth: Auth<S>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Body,
    pub content_type: Option<Vec<u8>>,
}

impl<S> Plan<S> {
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

/// A request as sent; its `Display` is what a failure shows.
pub struct Sent {
    pub index: usize,
    pub method: Method,
    /// As sent: the client normalises dot segments and encodes what it must.
    pub url: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Option<Vec<u8>>,
    request: Result<reqwest::Request, String>,
}

impl Sent {
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

/// Bytes exactly, escaped, with runs of one byte counted (`<'x' × 70000>`).
pub fn shown(bytes: &[u8]) -> String {
    let mut out = String::from("b\"");
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| **b == bytes[i]).count();
        if run >= 16 {
            out.push_str(&format!("\"<{} × {run}>b\"", [bytes[i]].escape_ascii()));
        } else {
            out.push_str(&bytes[i..i + run].escape_ascii().to_string());
        }
        i += run;
    }
    out.push('"');
    out
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ------------------------------------------------------------ answers

pub struct Answer {
    head: bool,
    /// Status, content type and body; or why there was none.
    pub outcome: Result<(u16, String, Vec<u8>), String>,
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.outcome.as_ref().map_or(0, |(status, _, _)| *status)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status())
    }

    pub fn json(&self) -> Value {
        self.outcome
            .as_ref()
            .ok()
            .and_then(|(_, _, body)| serde_json::from_slice(body).ok())
            .unwrap_or(Value::Null)
    }

    /// What is wrong with this answer: no answer, a 5xx, or a 4xx that is
    /// not `{"error": {"code": "snake_case", "message": "...", "details": {}}}`
    /// in JSON.
    pub fn problem(&self) -> Option<String> {
        let (status, content_type, body) = match &self.outcome {
            Ok(answer) => answer,
            Err(error) => return Some(error.clone()),
        };
        if *status >= 500 {
            return Some(format!("answered {status}: {}", shown(body)));
        }
        if !(400..500).contains(status) {
            return None;
        }
        if !content_type.starts_with("application/json") {
            return Some(format!(
                "a {status} as {content_type:?}, not JSON: {}",
                shown(body)
            ));
        }
        // A HEAD answer has the headers of the GET, and no body.
        if self.head {
            return None;
        }
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let error = parsed
            .as_ref()
            .and_then(Value::as_object)
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("error"));
        let code = error.and_then(|e| e["code"].as_str()).unwrap_or("");
        let shaped = error.is_some_and(|e| {
            e["message"].as_str().is_some_and(|m| !m.is_empty()) && e["details"].is_object()
        }) && !code.is_empty()
            && code.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        (!shaped).then(|| format!("a {status} not in the error shape: {}", shown(body)))
    }
}

/// How many answers had each status (0: none).
pub fn statuses(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.status()).or_default() += 1;
    }
    counts
}

/// With `FUZZ_ROUTES=1`, prints what each method and path was answered
/// (status and error code), to see what the requests reach.
pub fn print_routes(requests: &[Sent], answers: &[Answer]) {
    if std::env::var_os("FUZZ_ROUTES").is_none() {
        return;
    }
    let mut table: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (sent, answer) in requests.iter().zip(answers) {
        let path: Vec<String> = sent
            .path()
            .split('/')
            .map(|s| {
                if s.len() > 20 {
                    "{…}".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect();
        let code = answer.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        *table
            .entry(format!("{} {}", sent.method, path.join("/")))
            .or_default()
            .entry(format!("{} {code}", answer.status()))
            .or_default() += 1;
    }
    for (route, counts) in table {
        eprintln!("{route}: {counts:?}");
    }
}

/// Fails the test with every problem (the first 20 in full), after saying
/// how many requests were tried.
pub fn assert_no_problems(service: &str, total: usize, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problems in {total} hostile requests to {service}:\n\n{}",
        problems.len(),
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

// ------------------------------------------------------------ strategies

/// Any method, the contract's and others.
pub fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FUZZ",
    ])
    .prop_map(str::to_owned)
}

/// Strings an attacker or a confused client sends.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => ".{0,8}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}].{0,8}",
        1 => (".", 201_usize..3000).prop_map(|(c, n)| c.repeat(n)),
        3 => prop::sample::select(vec![
            "", " ", "\u{0}", "null", "-1", "+5", "05", "1e3", "1_000", "12.345", "eur", "EUR ",
            "javascript:alert(1)", "//evil.example/x.png", "https://exa mple.com/x.png",
            "Eve <eve@example.com>", "\"a\tb\"@example.com", "a@b@example.com", "a@localhost",
            "'; DROP TABLE customers; --", "%00", "%", "_", "\\", "🦀", "\u{202e}", "\u{feff}x",
            "Ａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "İ@EXAMPLE.COM", "ß@example.com", "a@[1.2.3.4]",
            "active", "blocked", "Blocked", "1000000.01", "a passphrase long enough",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A UUID written otherwise than `8-4-4-4-12` in lower case.
pub fn uuid_form(id: Uuid, form: usize) -> String {
    match form {
        0 => id.hyphenated().to_string().to_uppercase(),
        1 => id.simple().to_string(),
        2 => format!("%7B{id}%7D"),
        3 => format!("urn:uuid:{id}"),
        _ => format!("{id}0"),
    }
}

/// A path segment that is no id of anything: a random UUID in any form,
/// encoded control characters, overlong, garbage.
pub fn garbage_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<u128>().prop_map(|id| Uuid::from_u128(id).to_string()),
        2 => (any::<u128>(), 0_usize..5).prop_map(|(id, form)| uuid_form(Uuid::from_u128(id), form)),
        2 => hostile_text().prop_map(|text| encode(text.as_bytes())),
        2 => prop::sample::select(vec![
            "%00", "%2e%2e", "..%2f..%2f", "null", "-1", "0", "%20", "a%00b", "%ff", "%c0%ae",
            "%", "%zz", "%0", "%u0000", "%E2%80%AE", "%EF%BB%BF",
        ])
        .prop_map(str::to_owned),
        1 => (1_000_usize..6_000).prop_map(|n| "a".repeat(n)),
    ]
}

/// A query string over `keys` (and unknown ones), its values hostile or
/// `values`, encoded properly, not at all, or wrongly.
pub fn query(
    keys: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        4 => prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
        1 => hostile_text(),
    ];
    let value = prop_oneof![
        3 => prop::sample::select(vec![
            "0", "1", "2", "-1", "100", "101", "1000000", "1000001", "4294967296",
            "99999999999999999999", "+5", "05", " 5", "1e3", "1.5", "NaN", "", "abc",
            "%", "_", "\\", "%_\\", "a%",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select([values, &["x"]].concat()).prop_map(str::to_owned),
        3 => hostile_text(),
        1 => (any::<u128>(), 0_usize..5).prop_map(|(id, form)| uuid_form(Uuid::from_u128(id), form)),
    ];
    let pair = (key, value, 0_usize..4).prop_map(|(key, value, how)| match how {
        // As a browser would encode it.
        0 | 1 => format!("{}={}", encode(key.as_bytes()), encode(value.as_bytes())),
        // Raw: the client encodes only what it must.
        2 => format!("{}={}", key.replace('#', "%23"), value.replace('#', "%23")),
        // A broken escape at the end.
        _ => format!(
            "{}={}%{}",
            encode(key.as_bytes()),
            encode(value.as_bytes()),
            value.len() % 10
        ),
    });
    prop_oneof![
        1 => Just(String::new()),
        1 => Just("?".to_owned()),
        1 => Just("?&&=&==".to_owned()),
        8 => prop::collection::vec(pair, 1..5).prop_map(|pairs| format!("?{}", pairs.join("&"))),
    ]
}

/// Who calls: mostly the admin or anonymous, sometimes the holder of one
/// of `tokens` (intact or with a byte changed), often garbage.
pub fn auth<S: Clone + fmt::Debug + 'static>(tokens: Vec<S>) -> impl Strategy<Value = Auth<S>> {
    let garbage = prop_oneof![
        "[ -~]{0,80}".prop_map(|t| format!("Bearer {t}").into_bytes()),
        "[ -~]{0,80}".prop_map(|t| format!("bearer {t}").into_bytes()),
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,43}"
            .prop_map(|t| format!("Bearer {t}").into_bytes()),
        prop::collection::vec(
            prop_oneof![0x20_u8..0x7f, 0x80_u8..=0xff, Just(b'\t')],
            0..120
        ),
        (1_000_usize..6_000).prop_map(|n| format!("Bearer {}", "a".repeat(n)).into_bytes()),
        prop::sample::select(vec![
            "",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "Bearer  test-admin-token ",
            "Bearer test-admin-tokeN",
            "Bearer test-admin-token2",
            "BEARER test-admin-token",
            "Bearer\ttest-admin-token",
            "Token test-admin-token",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    let token = prop::sample::select(tokens);
    prop_oneof![
        35 => Just(Auth::Admin),
        30 => Just(Auth::Anonymous),
        12 => token.clone().prop_map(Auth::Bearer),
        4 => (token, any::<Index>(), 0x21_u8..0x7f).prop_map(|(t, at, byte)| Auth::Mangled(t, at, byte)),
        19 => garbage.prop_map(Auth::Header),
    ]
}

/// Now and then a header with garbage: `X-Request-Id`, `Origin` (a
/// cross-origin caller), `X-Forwarded-For`, `Accept`.
pub fn extra_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let header = prop_oneof![
        3 => (
            Just("x-request-id"),
            prop::collection::vec(prop_oneof![0x20_u8..0x7f, 0x80_u8..=0xff], 0..200)
        ),
        1 => (
            Just("origin"),
            prop_oneof![
                Just(b"https://evil.example".to_vec()),
                Just(b"null".to_vec()),
                "[ -~]{0,40}".prop_map(String::into_bytes),
            ]
        ),
        2 => (Just("x-forwarded-for"), "[ -~]{0,60}".prop_map(String::into_bytes)),
        2 => (Just("accept"), "[ -~]{0,40}".prop_map(String::into_bytes)),
    ]
    .prop_map(|(name, value)| (name.to_owned(), value));
    prop_oneof![
        6 => Just(Vec::new()),
        1 => prop::collection::vec(header, 1..3),
    ]
}

/// Mostly `application/json`; sometimes none, another type, or garbage.
pub fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        12 => Just(Some(b"application/json".to_vec())),
        1 => Just(None),
        1 => prop::sample::select(vec![
            "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
            "multipart/form-data; boundary=x", "application/xml", "*/*",
        ])
        .prop_map(|t| Some(t.as_bytes().to_vec())),
        1 => "[ -~]{0,30}".prop_map(|t| Some(t.into_bytes())),
    ]
}

/// `plan` with `auth`, `headers` added and, when it has a body, `content_type`.
pub fn dressed<S: Clone + fmt::Debug + 'static>(
    plan: impl Strategy<Value = Plan<S>>,
    tokens: Vec<S>,
) -> impl Strategy<Value = Plan<S>> {
    (plan, auth(tokens), extra_headers(), content_type()).prop_map(
        |(mut plan, auth, headers, content_type)| {
            plan.auth = auth;
            plan.headers.extend(headers);
            if !matches!(plan.body, Body::None) {
                plan.content_type = content_type;
            }
            plan
        },
    )
}

// ------------------------------------------------------------ bodies

/// A JSON text as a client may write it: duplicate keys and numbers that
/// no JSON library would produce included.
#[derive(Debug, Clone)]
pub enum J {
    /// A literal written as is (`null`, `1e400`, `-0`).
    Raw(String),
    Str(String),
    Arr(Vec<J>),
    /// Keys in order, repeats allowed.
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn raw(text: &str) -> Self {
        Self::Raw(text.to_owned())
    }

    pub fn str(text: &str) -> Self {
        Self::Str(text.to_owned())
    }

    pub fn obj<const N: usize>(fields: [(&str, J); N]) -> Self {
        Self::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Raw(text) => out.push_str(text),
            J::Str(text) => out.push_str(&serde_json::to_string(text).unwrap_or_default()),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    J::Str(key.clone()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Every place a value sits, as a path of indices.
    fn slots(&self) -> Vec<Vec<usize>> {
        let mut slots = Vec::new();
        let children: Vec<&J> = match self {
            J::Arr(items) => items.iter().collect(),
            J::Obj(fields) => fields.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        for (i, child) in children.into_iter().enumerate() {
            slots.push(vec![i]);
            slots.extend(child.slots().into_iter().map(|mut rest| {
                rest.insert(0, i);
                rest
            }));
        }
        slots
    }

    fn at_mut(&mut self, slot: &[usize]) -> Option<&mut J> {
        let Some((first, rest)) = slot.split_first() else {
            return Some(self);
        };
        let child = match self {
            J::Arr(items) => items.get_mut(*first)?,
            J::Obj(fields) => &mut fields.get_mut(*first)?.1,
            _ => return None,
        };
        child.at_mut(rest)
    }

    fn kind(&self) -> u8 {
        match self {
            J::Raw(text) if text == "null" => 0,
            J::Raw(text) if text == "true" || text == "false" => 1,
            J::Raw(_) => 2,
            J::Str(_) => 3,
            J::Arr(_) => 4,
            J::Obj(_) => 5,
        }
    }
}

/// A literal JSON number nobody should have to handle.
pub fn odd_number() -> impl Strategy<Value = J> {
    prop_oneof![
        any::<i64>().prop_map(|n| J::Raw(n.to_string())),
        any::<u64>().prop_map(|n| J::Raw(n.to_string())),
        any::<f64>().prop_map(|f| J::Raw(
            serde_json::Number::from_f64(f).map_or("0".to_owned(), |n| n.to_string())
        )),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "123456789012345678901234567890",
            "-0",
            "0.1e-400",
            "1E2",
            "1.0",
            "-9223372036854775809",
            "18446744073709551616",
            "0.0000001",
            "1e-7",
            "4294967296",
        ])
        .prop_map(J::raw),
    ]
}

/// Any JSON value, nested a little, with odd numbers and hostile strings.
pub fn any_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::raw("null")),
        any::<bool>().prop_map(|b| J::Raw(b.to_string())),
        odd_number(),
        hostile_text().prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((".{0,8}", inner), 0..4).prop_map(J::Obj),
        ]
    })
}

/// A value of another JSON type than `original`.
fn another_type(original: &J) -> BoxedStrategy<J> {
    let kind = original.kind();
    let all: Vec<(u8, BoxedStrategy<J>)> = vec![
        (0, Just(J::raw("null")).boxed()),
        (1, any::<bool>().prop_map(|b| J::Raw(b.to_string())).boxed()),
        (2, odd_number().boxed()),
        (3, hostile_text().prop_map(J::Str).boxed()),
        (
            4,
            prop::collection::vec(any_json(), 0..3)
                .prop_map(J::Arr)
                .boxed(),
        ),
        (
            5,
            prop::collection::vec((".{0,8}", any_json()), 0..3)
                .prop_map(J::Obj)
                .boxed(),
        ),
    ];
    let others: Vec<BoxedStrategy<J>> = all
        .into_iter()
        .filter(|(k, _)| *k != kind)
        .map(|(_, s)| s)
        .collect();
    prop::strategy::Union::new(others).boxed()
}

/// A request's body.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(J),
    /// The JSON text cut short.
    Truncated(J, Index),
    Bytes(Vec<u8>),
    /// Nested arrays, `depth` deep, around nothing or a valid body.
    Nested(usize, Option<J>),
    /// A valid body padded past the 64 KiB limit.
    Oversized(J, usize),
}

impl Body {
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Body::None => None,
            Body::Json(json) => Some(json.text().into_bytes()),
            Body::Truncated(json, at) => {
                let text = json.text().into_bytes();
                Some(text[..at.index(text.len().max(1)).min(text.len())].to_vec())
            }
            Body::Bytes(bytes) => Some(bytes.clone()),
            Body::Nested(depth, inner) => {
                let core = inner.as_ref().map(J::text).unwrap_or_default();
                Some(format!("{}{core}{}", "[".repeat(*depth), "]".repeat(*depth)).into_bytes())
            }
            Body::Oversized(json, pad) => {
                let mut fields = match json {
                    J::Obj(fields) => fields.clone(),
                    other => vec![("body".to_owned(), other.clone())],
                };
                fields.push(("pad".to_owned(), J::Str("x".repeat(64 * 1024 + pad))));
                Some(J::Obj(fields).text().into_bytes())
            }
        }
    }
}

/// Hostile variations of a valid body: as is, a value of another type, a
/// hostile string, a field missing, added or given twice, an odd number,
/// cut short, nested past any parser's depth, past the size limit, with a
/// BOM, twice, with trailing garbage, a raw NUL or an invalid UTF-8 byte.
pub fn mutated(valid: impl Strategy<Value = J> + Clone + 'static) -> BoxedStrategy<Body> {
    let retyped = valid
        .clone()
        .prop_flat_map(|json| {
            let slots = json.slots();
            (Just(json), prop::sample::select(slots)).prop_flat_map(|(json, slot)| {
                let mut probe = json.clone();
                let original = probe.at_mut(&slot).cloned().unwrap_or(J::raw("null"));
                (Just(json), Just(slot), another_type(&original))
            })
        })
        .prop_map(|(mut json, slot, value)| {
            if let Some(at) = json.at_mut(&slot) {
                *at = value;
            }
            Body::Json(json)
        });
    let replaced = |value: BoxedStrategy<J>| {
        (valid.clone(), any::<Index>(), value).prop_map(|(mut json, at, value)| {
            let slots = json.slots();
            if !slots.is_empty() {
                let slot = at.get(&slots).clone();
                if let Some(place) = json.at_mut(&slot) {
                    *place = value;
                }
            }
            Body::Json(json)
        })
    };
    let hostile_field = replaced(hostile_text().prop_map(J::Str).boxed());
    let odd_numbers = replaced(odd_number().boxed());
    let removed = (valid.clone(), any::<Index>()).prop_map(|(mut json, at)| {
        if let J::Obj(fields) = &mut json
            && !fields.is_empty()
        {
            fields.remove(at.index(fields.len()));
        }
        Body::Json(json)
    });
    let extra = (valid.clone(), ".{0,12}", any_json()).prop_map(|(mut json, key, value)| {
        if let J::Obj(fields) = &mut json {
            fields.push((key, value));
        }
        Body::Json(json)
    });
    let duplicated = (valid.clone(), any::<Index>(), any_json(), any::<bool>()).prop_map(
        |(mut json, at, value, first)| {
            if let J::Obj(fields) = &mut json
                && !fields.is_empty()
            {
                let key = fields[at.index(fields.len())].0.clone();
                let position = if first { 0 } else { fields.len() };
                fields.insert(position, (key, value));
            }
            Body::Json(json)
        },
    );
    let truncated =
        (valid.clone(), any::<Index>()).prop_map(|(json, at)| Body::Truncated(json, at));
    let nested = (
        prop_oneof![100_usize..200, 1_000_usize..50_000],
        prop::option::of(valid.clone()),
    )
        .prop_map(|(depth, inner)| Body::Nested(depth, inner));
    let oversized =
        (valid.clone(), 1_usize..4096).prop_map(|(json, pad)| Body::Oversized(json, pad));
    let framing = (valid.clone(), 0_usize..5).prop_map(|(json, how)| {
        let text = json.text();
        Body::Bytes(match how {
            0 => format!("\u{feff}{text}").into_bytes(),
            1 => format!("{text}{text}").into_bytes(),
            2 => format!("{text}x").into_bytes(),
            3 => text.replacen('"', "\"\u{0}", 1).into_bytes(),
            _ => {
                let mut bytes = text.into_bytes();
                let at = bytes.len() / 2;
                bytes.insert(at, 0xff);
                bytes
            }
        })
    });
    prop_oneof![
        6 => valid.prop_map(Body::Json),
        6 => retyped,
        4 => hostile_field,
        2 => removed,
        2 => extra,
        2 => duplicated,
        2 => odd_numbers,
        2 => truncated,
        2 => any_body(),
        1 => nested,
        1 => oversized,
        1 => framing,
    ]
    .boxed()
}

/// A body that is anything but a valid one.
pub fn any_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Body::Bytes),
        2 => any_json().prop_map(Body::Json),
        1 => prop::sample::select(vec!["", "null", "[]", "{}", "\"x\"", "42", "{", "}", "{\"a\":}", "\u{0}"])
            .prop_map(|t| Body::Bytes(t.as_bytes().to_vec())),
    ]
}

/// The paths every service serves besides its API (health, metrics, the
/// UI's, and `extra`), with hostile query strings.
pub fn misc_plan<S: Clone + fmt::Debug + 'static>(
    extra: &[&'static str],
) -> impl Strategy<Value = Plan<S>> {
    let mut paths = vec!["healthz", "readyz", "metrics"];
    paths.extend_from_slice(extra);
    paths.extend(["", "index.html", "api-docs/openapi.json"]);
    (prop::sample::select(paths), query(&["x"], &[]))
        .prop_map(|(path, query)| Plan::get(vec![Part::Lit(path)], query))
}

/// Any method on a path from `paths`, with hostile query strings and, one
/// time in three, a hostile body.
pub fn wandering_plan<S: Clone + fmt::Debug + 'static>(
    paths: impl Strategy<Value = Vec<Part<S>>>,
) -> impl Strategy<Value = Plan<S>> {
    (
        method(),
        paths,
        query(&["page", "q"], &[]),
        prop_oneof![2 => Just(Body::None), 1 => any_body()],
    )
        .prop_map(|(method, path, query, body)| Plan {
            query,
            ..Plan::call(&method, path).with_body(body)
        })
}

/// Each route with every method, as the admin and anonymous; the methods
/// that carry a body get the route's body, when it takes one.
pub fn every_method<S: Clone>(routes: &[(Vec<Part<S>>, Option<J>)]) -> Vec<Plan<S>> {
    let mut plans = Vec::new();
    for (path, body) in routes {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
            for auth in [Auth::Admin, Auth::Anonymous] {
                let body = match (method, body) {
                    ("POST" | "PUT" | "PATCH", Some(body)) => Body::Json(body.clone()),
                    _ => Body::None,
                };
                plans.push(Plan {
                    auth,
                    ..Plan::call(method, path.clone()).with_body(body)
                });
            }
        }
    }
    plans
}
