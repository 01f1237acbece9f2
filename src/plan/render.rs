//! Rendering the plan's documents with minijinja: templates embedded in the binary,
//! overridable file by file from a folder. Templates format; they never decide.

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};

use super::Plan;
use crate::error::{Error, Result};

/// Every embedded template: its name and text.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("scope.md.j2", include_str!("../../templates/scope.md.j2")),
    (
        "risk_assessment.md.j2",
        include_str!("../../templates/risk_assessment.md.j2"),
    ),
    (
        "deployment_strategy.md.j2",
        include_str!("../../templates/deployment_strategy.md.j2"),
    ),
    (
        "timeline.md.j2",
        include_str!("../../templates/timeline.md.j2"),
    ),
    (
        "team_allocation.md.j2",
        include_str!("../../templates/team_allocation.md.j2"),
    ),
    (
        "rollback_plan.md.j2",
        include_str!("../../templates/rollback_plan.md.j2"),
    ),
    (
        "internal_announcement.md.j2",
        include_str!("../../templates/internal_announcement.md.j2"),
    ),
    (
        "release_notes.md.j2",
        include_str!("../../templates/release_notes.md.j2"),
    ),
    ("macros.j2", include_str!("../../templates/macros.j2")),
];

/// Which template renders which file of the plan directory.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("scope.md.j2", "scope.md"),
    ("risk_assessment.md.j2", "risks/risk_assessment.md"),
    (
        "deployment_strategy.md.j2",
        "planning/deployment_strategy.md",
    ),
    ("timeline.md.j2", "schedule/timeline.md"),
    ("team_allocation.md.j2", "resources/team_allocation.md"),
    ("rollback_plan.md.j2", "rollback/rollback_plan.md"),
    (
        "internal_announcement.md.j2",
        "communications/internal_announcement.md",
    ),
    ("release_notes.md.j2", "communications/release_notes.md"),
];

/// One rendered file, path relative to the plan directory (always `/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub path: String,
    pub content: String,
}

fn embedded(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The template environment: the override folder first, then the embedded set.
pub fn environment(override_dir: Option<&Path>) -> Result<Environment<'static>> {
    if let Some(dir) = override_dir {
        if !dir.is_dir() {
            return Err(Error::input(format!(
                "template folder {} does not exist (expected a folder made by `relplan templates export`)",
                dir.display()
            )));
        }
    }
    let dir: Option<PathBuf> = override_dir.map(Path::to_path_buf);
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("strip_pr", strip_pr);
    env.set_loader(move |name| {
        if let Some(dir) = &dir {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("cannot read template {}: {e}", path.display()),
                    )
                });
            }
        }
        Ok(embedded(name).map(str::to_string))
    });
    Ok(env)
}

/// `drop v1 routes (#12)` → `drop v1 routes`: documents show the PR number once, in
/// their own place, instead of repeating the squash-merge suffix.
fn strip_pr(text: String) -> String {
    let trimmed = text.trim_end();
    if let Some(open) = trimmed.rfind("(#") {
        let inner = &trimmed[open + 2..];
        if let Some(digits) = inner.strip_suffix(')') {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return trimmed[..open].trim_end().to_string();
            }
        }
    }
    text
}

/// Renders every document of the plan, in memory: a template error writes nothing.
pub fn render_all(plan: &Plan, override_dir: Option<&Path>) -> Result<Vec<Document>> {
    let env = environment(override_dir)?;
    let context = minijinja::context! { plan => minijinja::Value::from_serialize(plan) };
    DOCUMENTS
        .iter()
        .map(|(template, path)| {
            let content = env
                .get_template(template)
                .and_then(|t| t.render(&context))
                .map_err(template_error)?;
            Ok(Document {
                path: path.to_string(),
                content,
            })
        })
        .collect()
}

/// "template scope.md.j2 line 12: undefined value (...)": name and line, always.
pub fn template_error(e: minijinja::Error) -> Error {
    let name = e.name().unwrap_or("<unknown>").to_string();
    let line = e.line().map(|l| format!(" line {l}")).unwrap_or_default();
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    Error::input(format!("template {name}{line}: {}{detail}", e.kind()))
}

/// Writes the embedded templates into `dir` for editing; never overwrites a file.
pub fn export(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", dir.display())))?;
    let existing: Vec<String> = TEMPLATES
        .iter()
        .filter(|(name, _)| dir.join(name).exists())
        .map(|(name, _)| name.to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::input(format!(
            "{} already holds {}: relplan will not overwrite templates (choose an empty folder)",
            dir.display(),
            existing.join(", ")
        )));
    }
    let mut written = Vec::new();
    for (name, text) in TEMPLATES {
        let path = dir.join(name);
        super::write::atomic_write(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod strip_pr_tests {
    #[test]
    fn strips_only_a_trailing_pr_reference() {
        assert_eq!(
            super::strip_pr("drop v1 routes (#12)".into()),
            "drop v1 routes"
        );
        assert_eq!(
            super::strip_pr("keep (#12) inside".into()),
            "keep (#12) inside"
        );
        assert_eq!(super::strip_pr("not a pr (#x)".into()), "not a pr (#x)");
        assert_eq!(super::strip_pr("plain".into()), "plain");
    }
}
