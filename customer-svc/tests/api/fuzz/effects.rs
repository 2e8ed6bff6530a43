//! What the successful answers say was written, and the rows written that
//! none of them accounts for.

use std::collections::HashSet;

use uuid::Uuid;

use testkit::hostile_http::{self, Answer, Sent};

use super::snapshot::Snapshot;

/// What the successful answers say was written.
#[derive(Default)]
pub(super) struct Effects {
    created: HashSet<String>,
    changed: HashSet<String>,
    removed: HashSet<String>,
}

impl Effects {
    pub(super) fn of(requests: &[Sent], answers: &[Answer]) -> Self {
        let mut effects = Effects::default();
        for (sent, answer) in hostile_http::successful_writes(requests, answers) {
            let segments = sent.segments();
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            let id = |raw: &str| Uuid::parse_str(raw).map(|id| id.to_string()).ok();
            match (sent.method.as_str(), segments.as_slice()) {
                ("POST", ["api", "v1", "customers"]) => {
                    effects
                        .created
                        .extend(answer.json()["id"].as_str().map(str::to_owned));
                }
                ("PATCH", ["api", "v1", "customers", raw]) => effects.changed.extend(id(raw)),
                ("DELETE", ["api", "v1", "customers", raw]) => effects.removed.extend(id(raw)),
                _ => {}
            }
        }
        effects
    }

    /// Rows written that no successful answer accounts for.
    pub(super) fn unexplained(
        &self,
        before: &Snapshot,
        after: &Snapshot,
        requests: &[Sent],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let naming = |id: &str| hostile_http::suspects(requests, |sent| sent.url.contains(id));
        for (id, row) in &after.customers {
            match before.customers.get(id) {
                None if !self.created.contains(id) => {
                    let email = hostile_http::row_field(row, "email");
                    let local_part = email.split('@').next().unwrap_or("");
                    let suspects =
                        hostile_http::suspects(requests, |sent| sent.body_contains(local_part));
                    problems.push(format!(
                        "a customer no 201 answered was written: {row}\nrequests with its email:\n{suspects}"
                    ));
                }
                Some(old) if old != row && !self.changed.contains(id) => problems.push(format!(
                    "customer {id} changed without a 2xx PATCH:\nbefore {old}\nafter  {row}\nrequests naming it:\n{}",
                    naming(id)
                )),
                _ => {}
            }
        }
        let created = after
            .customers
            .keys()
            .filter(|id| !before.customers.contains_key(*id))
            .count();
        if created != self.created.len() {
            problems.push(format!(
                "{} customers answered 201, {created} written",
                self.created.len()
            ));
        }
        for id in before.customers.keys() {
            let gone = !after.customers.contains_key(id);
            if gone != self.removed.contains(id) {
                problems.push(format!(
                    "customer {id} {} while {} answered its DELETE with 204:\n{}",
                    if gone {
                        "was removed"
                    } else {
                        "is still there"
                    },
                    if self.removed.contains(id) {
                        "a request"
                    } else {
                        "no request"
                    },
                    naming(id)
                ));
            }
        }
        if after.written_by_messages != before.written_by_messages {
            problems.push(format!(
                "rows only messages write went from {} to {}",
                before.written_by_messages, after.written_by_messages
            ));
        }
        problems
    }
}
