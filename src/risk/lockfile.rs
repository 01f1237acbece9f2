//! Counting changed dependency entries where the lockfile format makes it cheap:
//! `Cargo.lock` (TOML `[[package]]` tables) and `package-lock.json` (v1 to v3).
//! Other lockfiles count as "changed" without an entry count.

use std::collections::{BTreeMap, BTreeSet};

/// How one dependency moved between the two versions of a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntryChange {
    pub name: String,
    /// Versions before (empty: added).
    pub before: Vec<String>,
    /// Versions after (empty: removed).
    pub after: Vec<String>,
    /// The leading version number changed (`1.x` → `2.x`): a major upgrade.
    pub major: bool,
}

impl EntryChange {
    pub fn describe(&self) -> String {
        match (self.before.is_empty(), self.after.is_empty()) {
            (true, _) => format!("{} {} added", self.name, self.after.join(", ")),
            (_, true) => format!("{} {} removed", self.name, self.before.join(", ")),
            _ => format!(
                "{} {} → {}{}",
                self.name,
                self.before.join(", "),
                self.after.join(", "),
                if self.major { " (major)" } else { "" }
            ),
        }
    }
}

/// Whether relplan can count entries of this lockfile.
pub fn countable(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "Cargo.lock" || name == "package-lock.json"
}

type Entries = BTreeMap<String, BTreeSet<String>>;

fn cargo_entries(text: &str) -> Option<Entries> {
    let value: toml::Table = toml::from_str(text).ok()?;
    let mut entries = Entries::new();
    for package in value.get("package")?.as_array()? {
        let name = package.get("name").and_then(|v| v.as_str());
        let version = package.get("version").and_then(|v| v.as_str());
        if let (Some(name), Some(version)) = (name, version) {
            entries
                .entry(name.to_string())
                .or_default()
                .insert(version.to_string());
        }
    }
    Some(entries)
}

fn npm_entries(text: &str) -> Option<Entries> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut entries = Entries::new();
    if let Some(packages) = value.get("packages").and_then(|p| p.as_object()) {
        for (key, package) in packages {
            // "" is the project itself; keys are "node_modules/a/node_modules/b".
            let Some(name) = key.rsplit("node_modules/").next().filter(|n| !n.is_empty()) else {
                continue;
            };
            if let Some(version) = package.get("version").and_then(|v| v.as_str()) {
                entries
                    .entry(name.to_string())
                    .or_default()
                    .insert(version.to_string());
            }
        }
    } else if let Some(deps) = value.get("dependencies").and_then(|p| p.as_object()) {
        fn walk(deps: &serde_json::Map<String, serde_json::Value>, entries: &mut Entries) {
            for (name, dep) in deps {
                if let Some(version) = dep.get("version").and_then(|v| v.as_str()) {
                    entries
                        .entry(name.clone())
                        .or_default()
                        .insert(version.to_string());
                }
                if let Some(nested) = dep.get("dependencies").and_then(|d| d.as_object()) {
                    walk(nested, entries);
                }
            }
        }
        walk(deps, &mut entries);
    }
    Some(entries)
}

fn entries(path: &str, text: &str) -> Option<Entries> {
    if path.ends_with("Cargo.lock") {
        cargo_entries(text)
    } else {
        npm_entries(text)
    }
}

fn leading(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The entries that differ between `before` and `after` (either may be absent).
/// `None` when a version that exists cannot be parsed.
pub fn diff(path: &str, before: Option<&str>, after: Option<&str>) -> Option<Vec<EntryChange>> {
    let before = match before {
        Some(text) => entries(path, text)?,
        None => Entries::new(),
    };
    let after = match after {
        Some(text) => entries(path, text)?,
        None => Entries::new(),
    };
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = BTreeSet::new();
    let mut changes = Vec::new();
    for name in names {
        let b = before.get(name).unwrap_or(&empty);
        let a = after.get(name).unwrap_or(&empty);
        if a == b {
            continue;
        }
        let majors_before: BTreeSet<&str> = b.iter().map(|v| leading(v)).collect();
        let majors_after: BTreeSet<&str> = a.iter().map(|v| leading(v)).collect();
        changes.push(EntryChange {
            name: name.clone(),
            before: b.iter().cloned().collect(),
            after: a.iter().cloned().collect(),
            major: !b.is_empty() && !a.is_empty() && majors_before != majors_after,
        });
    }
    Some(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_lock_changes() {
        let before = "version = 3\n[[package]]\nname = \"serde\"\nversion = \"1.0.1\"\n\n[[package]]\nname = \"old\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.8.5\"\n";
        let after = "version = 3\n[[package]]\nname = \"serde\"\nversion = \"1.0.2\"\n\n[[package]]\nname = \"new\"\nversion = \"2.0.0\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.9.0\"\n";
        let changes = diff("Cargo.lock", Some(before), Some(after)).unwrap();
        let described: Vec<String> = changes.iter().map(EntryChange::describe).collect();
        assert_eq!(
            described,
            vec![
                "new 2.0.0 added",
                "old 0.1.0 removed",
                "rand 0.8.5 → 0.9.0",
                "serde 1.0.1 → 1.0.2"
            ]
        );
        assert!(!changes[2].major, "0.8 → 0.9 keeps the leading 0");
    }

    #[test]
    fn package_lock_v3_and_v1() {
        let before = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/react":{"version":"17.0.2"},"node_modules/a/node_modules/b":{"version":"1.0.0"}}}"#;
        let after = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/react":{"version":"18.2.0"},"node_modules/a/node_modules/b":{"version":"1.0.0"}}}"#;
        let changes = diff("web/package-lock.json", Some(before), Some(after)).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].major);
        let v1 = r#"{"dependencies":{"x":{"version":"1.0.0","dependencies":{"y":{"version":"2.0.0"}}}}}"#;
        assert_eq!(diff("package-lock.json", None, Some(v1)).unwrap().len(), 2);
    }

    #[test]
    fn unreadable_lockfile_is_not_counted() {
        assert_eq!(diff("Cargo.lock", Some("not toml ["), Some("")), None);
        assert!(countable("a/Cargo.lock") && !countable("yarn.lock"));
    }
}
