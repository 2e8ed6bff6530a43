//! The observability profile (Prometheus and Grafana) held against the files
//! it mounts, the services it scrapes, and the password and address Grafana
//! is given.

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Command,
};

use crate::support::{
    compose, env_example, environment, mounted_at, read, references, repo, service,
    services_by_profile, strings, volumes, yaml_file,
};

const OBSERVABILITY: [&str; 2] = ["prometheus", "grafana"];

#[test]
fn prometheus_and_grafana_run_only_under_the_observability_profile_with_their_files_read_only() {
    let compose = compose();
    let profiles = services_by_profile(&compose);
    for (name, profiles) in &profiles {
        let expected = if OBSERVABILITY.contains(&name.as_str()) {
            vec!["observability".to_owned()]
        } else {
            vec![]
        };
        assert_eq!(profiles, &expected, "{name}'s profiles");
    }
    for name in OBSERVABILITY {
        let svc = service(&compose, name);
        let image = svc["image"].as_str().expect("an image");
        let tag = image.rsplit_once(':').map(|(_, tag)| tag);
        assert!(
            tag.is_some_and(|tag| tag != "latest" && tag.chars().any(|c| c.is_ascii_digit())),
            "{name}'s image is pinned: {image}"
        );
        let mounted: Vec<_> = volumes(svc)
            .into_iter()
            .filter(|(source, _, _)| source.starts_with("./"))
            .collect();
        assert!(!mounted.is_empty(), "{name} mounts its configuration");
        for (source, target, read_only) in mounted {
            assert!(
                repo().join(&source).exists(),
                "{name} mounts {source}, which exists"
            );
            assert!(read_only, "{name} mounts {source} at {target} read-only");
        }
    }
    let grafana = environment(service(&compose, "grafana"));
    assert_eq!(
        references(&grafana["GF_SECURITY_ADMIN_PASSWORD"]).get("GRAFANA_ADMIN_PASSWORD"),
        Some(&false),
        "Grafana's admin password comes from .env, with no default"
    );
}

#[test]
fn prometheus_scrapes_both_services_by_their_compose_names_and_ports() {
    let compose = compose();
    let prometheus = service(&compose, "prometheus");
    let config = "scripts/observability/prometheus.yml";
    assert_eq!(
        mounted_at(prometheus, config),
        "/etc/prometheus/prometheus.yml"
    );
    assert!(
        strings(&prometheus["command"])
            .contains(&"--config.file=/etc/prometheus/prometheus.yml".to_owned()),
        "Prometheus reads the mounted configuration"
    );
    let scraped: BTreeMap<String, (String, Vec<String>)> = yaml_file(config)["scrape_configs"]
        .as_vec()
        .expect("scrape_configs")
        .iter()
        .map(|job| {
            let targets = job["static_configs"]
                .as_vec()
                .expect("static_configs")
                .iter()
                .flat_map(|group| strings(&group["targets"]))
                .collect();
            let path = job["metrics_path"]
                .as_str()
                .unwrap_or("/metrics")
                .to_owned();
            (
                job["job_name"].as_str().expect("job_name").to_owned(),
                (path, targets),
            )
        })
        .collect();
    let prometheus_networks: BTreeSet<String> =
        strings(&prometheus["networks"]).into_iter().collect();
    for name in ["order-svc", "customer-svc"] {
        let svc = service(&compose, name);
        let port = environment(svc)["HTTP_ADDR"]
            .rsplit_once(':')
            .map(|(_, port)| port.to_owned())
            .expect("HTTP_ADDR has a port");
        assert_eq!(
            scraped.get(name),
            Some(&("/metrics".to_owned(), vec![format!("{name}:{port}")])),
            "a job {name} scrapes {name}:{port}/metrics"
        );
        let networks: BTreeSet<String> = strings(&svc["networks"]).into_iter().collect();
        assert!(
            !networks.is_disjoint(&prometheus_networks),
            "Prometheus reaches {name}"
        );
    }
    assert_eq!(scraped.len(), 2, "nothing else is scraped: {scraped:?}");
}

#[test]
fn grafana_is_provisioned_with_prometheus_and_the_checkout_dashboard() {
    let compose = compose();
    let grafana = service(&compose, "grafana");
    let provisioning = "scripts/observability/grafana/provisioning";
    assert_eq!(
        mounted_at(grafana, provisioning),
        "/etc/grafana/provisioning"
    );
    let sources = yaml_file(&format!("{provisioning}/datasources/prometheus.yml"));
    let source = &sources["datasources"][0];
    assert_eq!(source["type"].as_str(), Some("prometheus"));
    assert_eq!(
        source["url"].as_str(),
        Some("http://prometheus:9090"),
        "Grafana reaches the compose service prometheus"
    );
    assert!(
        strings(&service(&compose, "prometheus")["ports"])
            .iter()
            .any(|port| port.ends_with(":9090")),
        "Prometheus listens on 9090"
    );
    let grafana_networks: BTreeSet<String> = strings(&grafana["networks"]).into_iter().collect();
    let prometheus_networks: BTreeSet<String> =
        strings(&service(&compose, "prometheus")["networks"])
            .into_iter()
            .collect();
    assert!(!grafana_networks.is_disjoint(&prometheus_networks));

    let providers = yaml_file(&format!("{provisioning}/dashboards/checkout.yml"));
    let dashboards = "scripts/observability/grafana/dashboards";
    assert_eq!(
        providers["providers"][0]["options"]["path"].as_str(),
        Some(mounted_at(grafana, dashboards).as_str()),
        "the provider loads the mounted dashboards"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(&format!("{dashboards}/checkout.json")))
            .expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "{} panels", panels.len());
    for panel in panels {
        for target in panel["targets"].as_array().expect("targets") {
            assert_eq!(
                target["datasource"]["uid"].as_str(),
                source["uid"].as_str(),
                "{} queries the provisioned Prometheus",
                panel["title"]
            );
        }
    }
}

#[test]
fn grafana_listens_on_this_host_only_and_refuses_the_placeholder_password() {
    let compose = compose();
    let grafana = service(&compose, "grafana");
    assert_eq!(
        strings(&grafana["ports"]),
        vec!["127.0.0.1:3000:3000".to_owned()],
        "Grafana is published on the loopback interface only"
    );
    // The entrypoint as the container runs it: compose turns `$$` into `$`.
    let entrypoint: Vec<String> = strings(&grafana["entrypoint"])
        .into_iter()
        .map(|part| part.replace("$$", "$"))
        .collect();
    assert_eq!(
        entrypoint.get(..2),
        Some(&["/bin/sh".to_owned(), "-c".to_owned()][..]),
        "a shell script: {entrypoint:?}"
    );
    let run = |password: &str| {
        let output = Command::new(&entrypoint[0])
            .args(&entrypoint[1..])
            .env("GF_SECURITY_ADMIN_PASSWORD", password)
            .output()
            .expect("sh runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let placeholder = &env_example()["GRAFANA_ADMIN_PASSWORD"];
    for refused in [placeholder.as_str(), "", "change-me"] {
        let (code, stderr) = run(refused);
        assert_eq!(code, Some(1), "{refused:?} is refused: {stderr}");
        assert!(
            stderr.contains("GRAFANA_ADMIN_PASSWORD"),
            "the refusal names the setting: {stderr}"
        );
    }
    // Past the check, the script hands over to the image's /run.sh, which is
    // not here: the shell cannot find it (127), which is not the refusal.
    let (code, stderr) = run("a-real-grafana-password");
    assert_ne!(code, Some(1), "a real password is accepted: {stderr}");
    assert!(
        !stderr.contains("GRAFANA_ADMIN_PASSWORD"),
        "a real password is accepted: {stderr}"
    );
    assert!(stderr.contains("/run.sh"), "it execs /run.sh: {stderr}");
}
