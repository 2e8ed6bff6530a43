//! There is no Docker engine where CI runs, so this holds `docker-compose.yml`,
//! `.env.example` and the Dockerfiles against the services' real
//! configuration instead: every variable a service is given is one it reads,
//! every address and port lines up, each service reaches only its own
//! database, and the images run as a non-root user with a health check the
//! binaries really answer. The observability profile's Prometheus and
//! Grafana are held against the files they mount and the services they
//! scrape (tests/e2e/dashboard.rs holds the dashboard's queries against
//! what the services export).

mod observability;
mod support;

use std::{collections::BTreeSet, process::Command};

use support::{
    compose, env_example, environment, read, references, service, services_by_profile, strings,
};

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
