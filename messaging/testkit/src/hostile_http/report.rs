//! What a fuzz run reports: statuses counted, the routes' answers (with
//! `FUZZ_ROUTES=1`), and every problem found.

use std::collections::BTreeMap;

use super::{Answer, Sent};

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

/// Judges a fuzz run: every answer outside the contract and every
/// `unexplained` write (rows no successful answer accounts for) is a
/// problem; says what was tried, and fails with every problem.
pub fn judge(
    service: &str,
    requests: &[Sent],
    answers: &[Answer],
    unexplained: Vec<String>,
    took: std::time::Duration,
) {
    let mut problems: Vec<String> = requests
        .iter()
        .zip(answers)
        .filter_map(|(sent, answer)| answer.problem().map(|p| format!("{p}\n{sent}")))
        .collect();
    problems.extend(unexplained);
    print_routes(requests, answers);
    eprintln!(
        "fuzz: {} requests tried against {service} in {took:.1?} (statuses {:?})",
        answers.len(),
        statuses(answers)
    );
    assert_eq!(answers.len(), requests.len(), "an answer for every request");
    assert_no_problems(service, requests.len(), &problems);
}
