//! The checkout dashboard (`scripts/observability/grafana/dashboards`)
//! queries only what the services export: every metric named in a panel's
//! PromQL is a family on the real services' `/metrics`, read once they have
//! done what the panels show (a checkout confirmed, one rejected for want of
//! stock, one rejected after an RPC timeout and compensated).

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::{
    parser::{self, Expr},
    util::{ExprVisitor, walk_expr},
};

use crate::harness::*;

const DASHBOARDS: &str = "../scripts/observability/grafana/dashboards";

/// Grafana's interval variables, as Prometheus would get them.
const GRAFANA_INTERVALS: [&str; 3] = ["$__rate_interval", "$__interval", "$__range"];

/// The metric names a PromQL expression selects.
struct Selected(BTreeSet<String>);

impl ExprVisitor for Selected {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        let selector = match expr {
            Expr::VectorSelector(selector) => selector,
            Expr::MatrixSelector(matrix) => &matrix.vs,
            _ => return Ok(true),
        };
        let name = selector
            .name
            .clone()
            .ok_or_else(|| format!("a selector without a metric name: {selector:?}"))?;
        self.0.insert(name);
        Ok(true)
    }
}

/// Every metric name the dashboards' panels query, with the panels that do.
fn queried_metrics() -> BTreeMap<String, Vec<String>> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DASHBOARDS);
    let mut queried: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).expect("the dashboards folder") {
        let path = entry.expect("a dashboard").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let dashboard: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for panel in dashboard["panels"].as_array().expect("panels") {
            let title = panel["title"].as_str().expect("a title");
            for target in panel["targets"].as_array().expect("targets") {
                let mut expr = target["expr"].as_str().expect("a PromQL expr").to_owned();
                for variable in GRAFANA_INTERVALS {
                    expr = expr.replace(variable, "5m");
                }
                let parsed = parser::parse(&expr)
                    .unwrap_or_else(|e| panic!("{title}: {expr} is not PromQL: {e}"));
                let mut selected = Selected(BTreeSet::new());
                walk_expr(&mut selected, &parsed).unwrap_or_else(|e| panic!("{title}: {e}"));
                for name in selected.0 {
                    queried.entry(name).or_default().push(title.to_owned());
                }
            }
        }
    }
    queried
}

/// Whether `name` is one of the exported families, or one of the series a
/// histogram (`_bucket`, `_sum`, `_count`) or summary (`_sum`, `_count`) has.
fn is_exported(families: &BTreeMap<String, String>, name: &str) -> bool {
    const PARTS: [(&str, &[&str]); 3] = [
        ("_bucket", &["histogram"]),
        ("_sum", &["histogram", "summary"]),
        ("_count", &["histogram", "summary"]),
    ];
    families.contains_key(name)
        || PARTS.iter().any(|(suffix, kinds)| {
            name.strip_suffix(suffix)
                .and_then(|family| families.get(family))
                .is_some_and(|kind| kinds.contains(&kind.as_str()))
        })
}

async fn exposition(system: &System, url: String) -> String {
    system
        .http
        .get(url)
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("a text exposition")
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_one_the_services_export() {
    let queried = queried_metrics();
    assert!(queried.len() >= 15, "the panels' metrics: {queried:?}");

    // customer-svc away: the checkout's RPC times out, the order is
    // rejected and its compensation waits for customer-svc.
    let mut system = System::without_services().await;
    system.start_order_svc(&[("RPC_TIMEOUT_MS", "1000")]).await;
    let mug = system.product("12.50", 1).await;
    let (_, timed_out) = system.checkout("panels@example.com", &[(&mug, 1)]).await;
    assert_eq!(timed_out["status"], "rejected", "{timed_out}");
    system.orders.remove(0).stop().await;

    system.start_customer_svc().await;
    system.start_order_svc(&[]).await;
    let (_, confirmed) = system.checkout("panels@example.com", &[(&mug, 1)]).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    let (_, short) = system.checkout("panels@example.com", &[(&mug, 1)]).await;
    assert_eq!(short["status"], "rejected", "{short}");

    let mut families =
        testkit::exposition::families(&exposition(&system, system.order_url("/metrics")).await);
    families.extend(testkit::exposition::families(
        &exposition(&system, system.customer_url("/metrics")).await,
    ));
    let missing: BTreeMap<_, _> = queried
        .iter()
        .filter(|(name, _)| !is_exported(&families, name))
        .collect();
    assert!(
        missing.is_empty(),
        "queried by a panel but not exported: {missing:?}\nexported: {:?}",
        families.keys().collect::<Vec<_>>()
    );
    system.stop().await;
}
