//! Reading `/metrics` (the Prometheus text exposition) in tests: the value
//! of one series, and the metric families it declares.

use std::collections::BTreeMap;

/// The value of the series `name` whose labels include every pair of
/// `labels` (summed, when several match); `None` when none does.
pub fn value(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let label_set: Vec<&str> = split_labels(series_labels);
            let matches =
                series_name == name && wanted.iter().all(|pair| label_set.contains(&pair.as_str()));
            matches.then(|| value.trim().parse::<f64>().ok())?
        })
        .reduce(|sum, value| sum + value)
}

/// `a="1",b="x,y"` as `["a=\"1\"", "b=\"x,y\""]` (commas inside quotes kept).
fn split_labels(labels: &str) -> Vec<&str> {
    let mut pairs = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pairs.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < labels.len() {
        pairs.push(&labels[start..]);
    }
    pairs
}

/// The metric families the exposition declares (`# TYPE name type`), with
/// their types: `counter`, `gauge`, `histogram` or `summary`.
pub fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("# TYPE ")?.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE events_dead_lettered_total counter\n\
        events_dead_lettered_total{queue=\"a.b\",reason=\"invalid\"} 2\n\
        events_dead_lettered_total{queue=\"a.b\",reason=\"undecodable\"} 1\n\
        events_dead_lettered_total{queue=\"c,d\",reason=\"invalid\"} 5\n\
        # TYPE sagas_in_flight gauge\n\
        sagas_in_flight 3\n";

    #[test]
    fn a_series_is_found_by_name_and_labels() {
        let reason = |r| {
            value(
                TEXT,
                "events_dead_lettered_total",
                &[("queue", "a.b"), ("reason", r)],
            )
        };
        assert_eq!(reason("invalid"), Some(2.0));
        assert_eq!(reason("undecodable"), Some(1.0));
        assert_eq!(reason("other"), None);
        assert_eq!(
            value(TEXT, "events_dead_lettered_total", &[("queue", "a.b")]),
            Some(3.0)
        );
        assert_eq!(
            value(TEXT, "events_dead_lettered_total", &[("queue", "c,d")]),
            Some(5.0)
        );
        assert_eq!(value(TEXT, "sagas_in_flight", &[]), Some(3.0));
        assert_eq!(value(TEXT, "sagas_in", &[]), None);
    }

    #[test]
    fn families_are_read_from_their_type_lines() {
        let families = families(TEXT);
        assert_eq!(families["events_dead_lettered_total"], "counter");
        assert_eq!(families["sagas_in_flight"], "gauge");
        assert_eq!(families.len(), 2);
    }
}
