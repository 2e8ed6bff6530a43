//! The YAML, `.env` and file helpers the compose tests share: reading the
//! repository's files and picking services, environments, volumes and
//! `${VARIABLE}` references out of `docker-compose.yml`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use yaml_rust2::{Yaml, YamlLoader};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn compose() -> Yaml {
    YamlLoader::load_from_str(&read("docker-compose.yml"))
        .expect("docker-compose.yml is YAML")
        .remove(0)
}

pub fn service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    let service = &compose["services"][name];
    assert!(!service.is_badvalue(), "service {name} is missing");
    service
}

pub fn environment(service: &Yaml) -> BTreeMap<String, String> {
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

pub fn strings(yaml: &Yaml) -> Vec<String> {
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
pub fn references(text: &str) -> BTreeMap<String, bool> {
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

pub fn env_example() -> BTreeMap<String, String> {
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
pub fn services_by_profile(compose: &Yaml) -> BTreeMap<String, Vec<String>> {
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

/// A `source:target[:mode]` volume of a service: (source, target, read-only).
pub fn volumes(service: &Yaml) -> Vec<(String, String, bool)> {
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
pub fn mounted_at(service: &Yaml, path: &str) -> String {
    volumes(service)
        .into_iter()
        .find(|(source, _, _)| source.trim_start_matches("./") == path)
        .map(|(_, target, _)| target)
        .unwrap_or_else(|| panic!("{path} is not mounted"))
}

pub fn yaml_file(path: &str) -> Yaml {
    YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{path} is YAML: {e}"))
        .remove(0)
}
