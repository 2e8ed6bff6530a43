//! Hostile HTTP requests against a real service, for the fuzz tests of both
//! services (`order-svc/tests/e2e/fuzz/`, `customer-svc/tests/api/fuzz/`);
//! the conventions it checks are the shared edge's.
//!
//! A service's test describes its routes as [`Plan`]s, strategies of
//! proptest, with placeholders (`S`) for what exists only once the service
//! runs (ids, tokens); [`generate`] draws them from one fixed seed, so that
//! every run sends the same requests; [`Plan::render`] fills the placeholders
//! in; [`send_all`] sends them; [`Answer::problem`] says what is wrong with
//! an answer (a 5xx, a 4xx outside the contract's error shape); a failure
//! shows the exact request ([`Sent`]'s `Display`).

mod answer;
mod body;
mod json;
mod plans;
mod report;
mod request;
mod sent;
mod strategies;
mod text;

use std::time::Duration;

use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};

pub use answer::Answer;
pub use body::{Body, any_body, mutated};
pub use json::{J, any_json, odd_number};
pub use plans::{dressed, every_method, misc_plan, wandering_plan};
pub use report::judge;
pub use request::{Auth, Part, Plan, assert_deterministic, render_all};
pub use sent::{Sent, row_field, send_all, successful_writes, suspects};
pub use strategies::{
    auth, content_type, extra_headers, garbage_segment, hostile_text, method, query, uuid_form,
};
pub use text::{encode, shown};

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
