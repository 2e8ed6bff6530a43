//! Bytes written as text: escaped and abridged for a failure's message, or
//! percent-encoded for a URL.

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
