//! There is no Docker engine where CI runs, so this holds `docker-compose.yml`,
//! `.env.example` and the Dockerfiles against the services' real
//! configuration instead: every variable a service is given is one it reads,
//! every address and port lines up, each service reaches only its own
//! database, and the images run as a non-root user with a health check the
//! binaries really answer. The observability profile's Prometheus and
//! Grafana are held against the files they mount and the services they
//! scrape (tests/e2e/dashboard.rs holds the dashboard's queries against
//! what the services export).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Yaml {
    YamlLoader::load_from_str(&read("docker-compose.yml"))
        .expect("docker-compose.yml is YAML")
        .remove(0)
}

fn service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    let service = &compose["services"][name];
    assert!(!service.is_badvalue(), "service {name} is missing");
    service
}

fn environment(service: &Yaml) -> BTreeMap<String, String> {
    service["environment"]
        .as_hash()
        .expect("environment is a map")
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(n) => n.to_string(),
                other => panic!("unexpected value {other:?}"),
            };
            (k.as_str().expect("key").to_owned(), value)
        })
        .collect()
}

fn strings(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The variables `${NAME}` / `${NAME:-default}` / `${NAME:?message}` refer to,
/// with whether they have a default.
fn references(text: &str) -> BTreeMap<String, bool> {
    let mut found = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let inner = &rest[start + 2..];
        if rest[..start].ends_with('$') {
            // `$${...}` is an escaped dollar: the container's shell expands it, not compose.
            rest = inner;
            continue;
        }
        let end = inner.find('}').expect("closed ${...}");
        let expression = &inner[..end];
        let name: String = expression
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let has_default = expression[name.len()..].starts_with(":-");
        let entry = found.entry(name).or_insert(has_default);
        *entry = *entry && has_default;
        rest = &inner[end..];
    }
    found
}

fn env_example() -> BTreeMap<String, String> {
    read(".env.example")
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && line.contains('='))
        .filter_map(|line| {
            line.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// The services' names, with their profiles (none for the default ones).
fn services_by_profile(compose: &Yaml) -> BTreeMap<String, Vec<String>> {
    compose["services"]
        .as_hash()
        .expect("services")
        .iter()
        .map(|(name, service)| {
            (
                name.as_str().expect("a name").to_owned(),
                strings(&service["profiles"]),
            )
        })
        .collect()
}

const OBSERVABILITY: [&str; 2] = ["prometheus", "grafana"];

#[test]
fn the_system_has_its_five_services_with_health_checks() {
    let compose = compose();
    let profiles = services_by_profile(&compose);
    let names: BTreeSet<&str> = profiles
        .iter()
        .filter(|(_, profiles)| profiles.is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "rabbitmq",
            "orders-db",
            "customers-db",
            "order-svc",
            "customer-svc"
        ])
    );
    for name in profiles.keys() {
        assert!(
            !service(&compose, name)["healthcheck"]["test"].is_badvalue(),
            "{name} has a health check"
        );
    }
    assert_eq!(
        service(&compose, "rabbitmq")["image"]
            .as_str()
            .map(|i| i.contains("management")),
        Some(true)
    );
    assert!(strings(&service(&compose, "rabbitmq")["ports"]).contains(&"15672:15672".to_owned()));
}

#[test]
fn every_variable_given_to_a_service_is_one_it_reads() {
    let compose = compose();
    for (name, known) in [
        ("order-svc", order_svc::config::variables()),
        ("customer-svc", customer_svc::config::variables()),
    ] {
        let given = environment(service(&compose, name));
        for key in given.keys() {
            assert!(known.contains(&key.as_str()), "{name} does not read {key}");
        }
        for required in [
            "DATABASE_URL",
            "AMQP_URL",
            "AMQP_NAMESPACE",
            "HTTP_ADDR",
            "ADMIN_TOKEN",
            "ACCESS_TOKEN_SECRET",
            "APP_ENV",
        ] {
            assert!(given.contains_key(required), "{name} needs {required}");
        }
    }
}

#[test]
fn addresses_and_ports_line_up() {
    let compose = compose();
    for (name, port) in [("order-svc", 3001), ("customer-svc", 3002)] {
        let svc = service(&compose, name);
        let env = environment(svc);
        assert_eq!(
            env["HTTP_ADDR"],
            format!("0.0.0.0:{port}"),
            "{name} listens on all interfaces in its container"
        );
        assert!(
            strings(&svc["ports"]).contains(&format!("{port}:{port}")),
            "{name} publishes {port}"
        );
        assert!(
            env["AMQP_URL"].contains("@rabbitmq:5672/"),
            "{name} reaches the broker by its service name"
        );
        assert!(
            env["AMQP_URL"].contains("${RABBITMQ_USER}:${RABBITMQ_PASSWORD}"),
            "{name} uses the broker's account"
        );
    }
    let order = environment(service(&compose, "order-svc"));
    let customer = environment(service(&compose, "customer-svc"));
    assert_eq!(
        order["AMQP_NAMESPACE"], customer["AMQP_NAMESPACE"],
        "one namespace for both"
    );
    assert!(
        order["CUSTOMER_API_URL"].ends_with(":3002}"),
        "the UI is told where customer-svc is published"
    );
    assert!(
        customer["CORS_ORIGINS"].contains("localhost:3001"),
        "customer-svc lets the shop's page call it"
    );
    let dockerfile = read("order-svc/Dockerfile");
    assert!(
        dockerfile.contains(&format!(
            "COPY --from=build /src/ui/dist {}",
            order["UI_DIR"]
        )),
        "UI_DIR is where the image puts the UI"
    );
}

#[test]
fn each_service_reaches_only_its_own_database() {
    let compose = compose();
    for (name, database, other) in [
        ("order-svc", "orders-db", "customers-db"),
        ("customer-svc", "customers-db", "orders-db"),
    ] {
        let svc = service(&compose, name);
        let env = environment(svc);
        let db = environment(service(&compose, database));
        let url = &env["DATABASE_URL"];
        let variable = |value: &str| references(value).into_keys().next().expect("a ${VARIABLE}");
        let (user, password) = (
            variable(&db["POSTGRES_USER"]),
            variable(&db["POSTGRES_PASSWORD"]),
        );
        let expected = format!(
            "${{{user}}}:${{{password}}}@{database}:5432/{}",
            db["POSTGRES_DB"]
        );
        assert!(
            url.contains(&expected),
            "{name} uses {database} with its account: {url}"
        );
        let mine: BTreeSet<String> = strings(&svc["networks"]).into_iter().collect();
        let theirs: BTreeSet<String> = strings(&service(&compose, other)["networks"])
            .into_iter()
            .collect();
        assert!(
            mine.is_disjoint(&theirs),
            "{name} shares no network with {other}"
        );
        for network in strings(&service(&compose, database)["networks"]) {
            assert_eq!(
                compose["networks"][network.as_str()]["internal"].as_bool(),
                Some(true),
                "{network} is internal"
            );
        }
    }
}

#[test]
fn every_credential_comes_from_the_env_file_and_the_example_names_them_all() {
    let example = env_example();
    for (name, has_default) in references(&read("docker-compose.yml")) {
        assert!(
            has_default || example.contains_key(&name),
            ".env.example lacks {name}"
        );
    }
    for secret in [
        "GRAFANA_ADMIN_PASSWORD",
        "RABBITMQ_PASSWORD",
        "ORDERS_DB_PASSWORD",
        "CUSTOMERS_DB_PASSWORD",
        "ADMIN_TOKEN",
        "ACCESS_TOKEN_SECRET",
    ] {
        assert!(
            example[secret].starts_with("change-me"),
            "{secret} is a placeholder in .env.example"
        );
    }
    let ignored = read(".gitignore");
    assert!(
        ignored.lines().any(|l| l.trim() == ".env"),
        ".env is never committed"
    );
}

#[test]
fn images_are_multi_stage_non_root_and_checked_by_the_binary() {
    for (name, dockerfile) in [
        ("order-svc", "order-svc/Dockerfile"),
        ("customer-svc", "customer-svc/Dockerfile"),
    ] {
        let text = read(dockerfile);
        assert!(
            text.matches("\nFROM ").count() + usize::from(text.starts_with("FROM ")) >= 2,
            "{dockerfile} is multi-stage"
        );
        assert!(
            text.contains(&format!("cargo build --release --locked -p {name}")),
            "{dockerfile} builds {name}"
        );
        let runtime = text.rsplit("\nFROM ").next().unwrap();
        assert!(
            runtime.contains("\nUSER app"),
            "{dockerfile} runs as a non-root user"
        );
        assert!(
            runtime.contains(&format!("CMD [\"{name}\", \"healthcheck\"]")),
            "{dockerfile} has a health check"
        );
        let compose = compose();
        assert_eq!(
            service(&compose, name)["build"]["dockerfile"].as_str(),
            Some(dockerfile)
        );
    }
}

#[test]
fn the_healthcheck_subcommand_fails_when_nothing_answers() {
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let status = Command::new(env!("CARGO_BIN_EXE_order-svc"))
        .arg("healthcheck")
        .env("HTTP_ADDR", format!("127.0.0.1:{free_port}"))
        .status()
        .expect("order-svc runs");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn the_composed_services_run_in_production_and_refuse_the_example_placeholders() {
    let compose = compose();
    let example = env_example();
    for name in ["order-svc", "customer-svc"] {
        let given = environment(service(&compose, name));
        assert_eq!(given["APP_ENV"], "production", "{name} runs as production");
        let refused = edge::access_config::AccessConfig::from_lookup(|variable| match variable {
            "APP_ENV" => Some("production".to_owned()),
            "ADMIN_TOKEN" | "ACCESS_TOKEN_SECRET" => example.get(variable).cloned(),
            _ => None,
        });
        assert!(
            refused.is_err(),
            "{name} would start with .env.example's placeholders"
        );
    }
}

/// A `source:target[:mode]` volume of a service: (source, target, read-only).
fn volumes(service: &Yaml) -> Vec<(String, String, bool)> {
    strings(&service["volumes"])
        .into_iter()
        .map(|volume| {
            let mut parts = volume.splitn(3, ':');
            let source = parts.next().unwrap_or_default().to_owned();
            let target = parts.next().unwrap_or_default().to_owned();
            (source, target, parts.next() == Some("ro"))
        })
        .collect()
}

/// Where `service` mounts the repository's `path` (a file or folder).
fn mounted_at(service: &Yaml, path: &str) -> String {
    volumes(service)
        .into_iter()
        .find(|(source, _, _)| source.trim_start_matches("./") == path)
        .map(|(_, target, _)| target)
        .unwrap_or_else(|| panic!("{path} is not mounted"))
}

fn yaml_file(path: &str) -> Yaml {
    YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{path} is YAML: {e}"))
        .remove(0)
}

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
