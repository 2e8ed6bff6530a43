//! HTTP calls as the admin, a bearer of a token, or anonymous; each answer
//! as its status and JSON body.

use serde_json::Value;

use super::{ADMIN_TOKEN, System};

impl System {
    /// A GET as the admin (most tests look at what the services hold).
    pub async fn get(&self, url: &str) -> (u16, Value) {
        self.get_as(url, Some(ADMIN_TOKEN)).await
    }

    /// A GET with `token` as the bearer (`None`: anonymous).
    pub async fn get_as(&self, url: &str, token: Option<&str>) -> (u16, Value) {
        self.call_as(reqwest::Method::GET, url, None, token).await
    }

    /// Any request with `token` as the bearer (`None`: anonymous).
    pub async fn call_as(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request).await
    }

    pub async fn post(&self, url: &str, body: &Value) -> (u16, Value) {
        send(self.http.post(url).json(body)).await
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        send(request).await
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}
