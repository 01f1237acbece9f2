//! From commit messages to classified changes: Conventional Commits parsing,
//! categories, and the suggested version bump. Pure: takes `git::Commit`s, returns data.

mod version;

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize, Serializer};

use crate::error::Result;
use crate::git::Commit;

pub use version::{suggest, Bump, BumpLevel};

/// `[commits]` in `.relplan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitsConfig {}

impl CommitsConfig {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Where a change is listed. Serialized as the lower-case names of the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Features,
    Fixes,
    Performance,
    Security,
    Dependencies,
    Documentation,
    Refactoring,
    Tests,
    Build,
    Other,
    /// Not a conventional commit and no rule matched.
    Unclassified,
    /// Cancelled by a revert in the same range (and that revert).
    Reverted,
    /// Merge plumbing, fixups, configured skips.
    Skipped,
    /// A category a user configured.
    Custom(String),
}

impl Category {
    pub fn as_str(&self) -> &str {
        match self {
            Category::Features => "features",
            Category::Fixes => "fixes",
            Category::Performance => "performance",
            Category::Security => "security",
            Category::Dependencies => "dependencies",
            Category::Documentation => "documentation",
            Category::Refactoring => "refactoring",
            Category::Tests => "tests",
            Category::Build => "build",
            Category::Other => "other",
            Category::Unclassified => "unclassified",
            Category::Reverted => "reverted",
            Category::Skipped => "skipped",
            Category::Custom(name) => name,
        }
    }

    /// Heading used in documents.
    pub fn title(&self) -> String {
        match self {
            Category::Features => "Features".into(),
            Category::Fixes => "Bug fixes".into(),
            Category::Performance => "Performance".into(),
            Category::Security => "Security".into(),
            Category::Dependencies => "Dependencies".into(),
            Category::Documentation => "Documentation".into(),
            Category::Refactoring => "Refactoring".into(),
            Category::Tests => "Tests".into(),
            Category::Build => "Build and CI".into(),
            Category::Other => "Other changes".into(),
            Category::Unclassified => "Unclassified".into(),
            Category::Reverted => "Reverted within this release".into(),
            Category::Skipped => "Skipped".into(),
            Category::Custom(name) => {
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }

    /// The order sections appear in scope.md (custom categories after `other`).
    pub fn rank(&self) -> u8 {
        match self {
            Category::Features => 0,
            Category::Fixes => 1,
            Category::Performance => 2,
            Category::Security => 3,
            Category::Dependencies => 4,
            Category::Documentation => 5,
            Category::Refactoring => 6,
            Category::Tests => 7,
            Category::Build => 8,
            Category::Other => 9,
            Category::Custom(_) => 10,
            Category::Unclassified => 11,
            Category::Reverted => 12,
            Category::Skipped => 13,
        }
    }

    /// The built-in categories, in document order.
    pub const BUILT_IN: [Category; 13] = [
        Category::Features,
        Category::Fixes,
        Category::Performance,
        Category::Security,
        Category::Dependencies,
        Category::Documentation,
        Category::Refactoring,
        Category::Tests,
        Category::Build,
        Category::Other,
        Category::Unclassified,
        Category::Reverted,
        Category::Skipped,
    ];
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One commit of the range, classified. The first fields are the JSON contract
/// of `relplan scope --format json` (DESIGN.md); the rest may grow.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: String,
    pub summary: String,
    pub conventional: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub breaking: bool,
    pub description: Option<String>,
    pub category: Category,
    pub pr: Option<u64>,
    pub authors: Vec<String>,
    pub short_id: String,
    /// Text of `BREAKING CHANGE:` footers: the migration note.
    pub breaking_note: Option<String>,
    /// Author time, RFC 3339.
    pub time: String,
}

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?: ?(?P<desc>\S.*)$")
        .expect("header regex")
});
static PR_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(#(\d+)\)\s*$").expect("pr regex"));
static MERGE_PR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Merge pull request #(\d+) from ").expect("merge regex"));

/// Classifies every commit of the range, keeping their order.
pub fn classify(commits: &[Commit], _config: &CommitsConfig) -> Vec<Change> {
    commits.iter().map(classify_one).collect()
}

fn classify_one(commit: &Commit) -> Change {
    let message = commit.message.replace("\r\n", "\n");
    let summary = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    let short_id = commit.id.chars().take(7).collect();
    let time = chrono::DateTime::from_timestamp(commit.time, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let mut pr = PR_SUFFIX.captures(&summary).and_then(|c| c[1].parse().ok());
    let mut change = Change {
        id: commit.id.clone(),
        summary: summary.clone(),
        conventional: false,
        kind: None,
        scope: None,
        breaking: false,
        description: None,
        category: Category::Unclassified,
        pr: None,
        authors: authors(commit, &message),
        short_id,
        breaking_note: None,
        time,
    };
    if let Some(c) = MERGE_PR.captures(&summary) {
        pr = c[1].parse().ok();
    }
    change.pr = pr;
    if commit.parent_count > 1 && summary.starts_with("Merge ") {
        change.category = Category::Skipped;
        return change;
    }
    if let Some(c) = HEADER.captures(&summary) {
        let kind = c["type"].to_lowercase();
        let scope = c
            .name("scope")
            .map(|m| m.as_str().trim().to_string())
            .filter(|s| !s.is_empty());
        change.conventional = true;
        change.breaking = c.name("bang").is_some();
        change.description = Some(c["desc"].trim().to_string());
        change.category = category_for(&kind, scope.as_deref());
        change.kind = Some(kind);
        change.scope = scope;
        if let Some(note) = breaking_footer(&message) {
            change.breaking = true;
            change.breaking_note = Some(note);
        }
    }
    change
}

fn category_for(kind: &str, scope: Option<&str>) -> Category {
    if scope == Some("deps") {
        return Category::Dependencies;
    }
    if scope == Some("security") {
        return Category::Security;
    }
    match kind {
        "feat" | "feature" => Category::Features,
        "fix" => Category::Fixes,
        "perf" => Category::Performance,
        "security" => Category::Security,
        "deps" => Category::Dependencies,
        "docs" | "doc" => Category::Documentation,
        "refactor" => Category::Refactoring,
        "test" | "tests" => Category::Tests,
        "build" | "ci" => Category::Build,
        _ => Category::Other,
    }
}

/// The text of a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer, up to the next blank line.
fn breaking_footer(message: &str) -> Option<String> {
    let mut lines = message.lines().skip(1);
    let mut note: Option<String> = None;
    for line in lines.by_ref() {
        if let Some(rest) = line
            .strip_prefix("BREAKING CHANGE:")
            .or_else(|| line.strip_prefix("BREAKING-CHANGE:"))
        {
            note = Some(rest.trim().to_string());
            continue;
        }
        if let Some(text) = note.as_mut() {
            if line.trim().is_empty() {
                break;
            }
            text.push(' ');
            text.push_str(line.trim());
        }
    }
    note
}

fn authors(commit: &Commit, message: &str) -> Vec<String> {
    let mut authors = vec![commit.author.clone()];
    for line in message.lines() {
        if let Some(rest) = line.strip_prefix("Co-authored-by:") {
            let name = rest.split('<').next().unwrap_or("").trim();
            if !name.is_empty() && !authors.iter().any(|a| a == name) {
                authors.push(name.to_string());
            }
        }
    }
    authors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(message: &str) -> Commit {
        Commit {
            oid: git2::Oid::ZERO_SHA1,
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            message: message.into(),
            author: "Ada".into(),
            author_email: "ada@example.com".into(),
            time: 0,
            parent_count: 1,
        }
    }

    #[test]
    fn conventional_header() {
        let c = classify_one(&commit("feat(api)!: drop v1 routes (#12)\n"));
        assert!(c.conventional && c.breaking);
        assert_eq!(c.kind.as_deref(), Some("feat"));
        assert_eq!(c.scope.as_deref(), Some("api"));
        assert_eq!(c.description.as_deref(), Some("drop v1 routes (#12)"));
        assert_eq!(c.category, Category::Features);
        assert_eq!(c.pr, Some(12));
    }

    #[test]
    fn breaking_footer_is_the_migration_note() {
        let c = classify_one(&commit(
            "fix: x\n\nBREAKING CHANGE: config key `a` is now `b`.\n",
        ));
        assert!(c.breaking);
        assert_eq!(
            c.breaking_note.as_deref(),
            Some("config key `a` is now `b`.")
        );
    }

    #[test]
    fn not_conventional() {
        let c = classify_one(&commit("Update readme"));
        assert!(!c.conventional);
        assert_eq!(c.category, Category::Unclassified);
        assert_eq!(c.kind, None);
    }
}
