//! Hostile input a clear 4xx that writes nothing: control characters in
//! searches, a display name for an email, chunked and oversized bodies.

use crate::harness::*;

/// Sends a raw HTTP/1.1 request to `address` and returns the status code.
async fn raw_status(address: &str, request: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = vec![0_u8; 64];
    let read = stream.read(&mut answer).await.expect("answer");
    let head = String::from_utf8_lossy(&answer[..read]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"))
}

#[tokio::test]
async fn hostile_input_is_a_clear_4xx_and_writes_nothing() {
    let system = System::start().await;
    let mug = system.product("3.00", 10).await;
    for path in [
        "/api/v1/products?q=%00",
        "/api/v1/products?category=%00",
        "/api/v1/products?q=%1b%5b31m",
    ] {
        let (status, body) = system.get(&system.order_url(path)).await;
        assert_eq!(status, 422, "{path}: {body}");
    }
    let (status, body) = system
        .get(&system.customer_url("/api/v1/customers?q=%00"))
        .await;
    assert_eq!(status, 422, "{body}");

    // A display name around the address is not an email: one customer per mailbox.
    let (status, body) = system.checkout("Eve <eve@example.com>", &[(&mug, 1)]).await;
    assert_eq!(status, 422, "{body}");
    assert!(system.customer("eve@example.com").await.is_none());

    // A chunked body is read within the size limit; past it, a 413.
    let address = system
        .order_url("")
        .trim_start_matches("http://")
        .to_owned();
    let body = checkout_body("chunked@example.com", &[(&mug, 1)]).to_string();
    let chunked = |payload: &str| {
        format!(
            "POST /api/v1/orders HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{payload}\r\n0\r\n\r\n",
            payload.len()
        )
    };
    assert_eq!(raw_status(&address, chunked(&body)).await, 201);
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(raw_status(&address, chunked(&huge)).await, 413);
    assert_eq!(
        system.stock_of(&mug).await,
        9,
        "only the chunked checkout took stock"
    );
    system.stop().await;
}
