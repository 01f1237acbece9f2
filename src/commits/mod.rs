//! From commit messages to classified changes: Conventional Commits parsing
//! (`parse`), the classification rules (`classify`, `config`), reverts, merges and
//! fixups, and the suggested version bump (`version`). Pure: takes `git::Commit`s
//! (and, for the path fallback, a lookup the caller provides), returns data. Never
//! reads the repository itself.

mod change;
mod classify;
mod config;
mod packed;
pub mod parse;
mod version;

use std::fmt;

use serde::{Serialize, Serializer};

pub use change::{Change, ChangeFields, KEYS as CHANGE_KEYS};
pub use classify::{
    classify, fold_pull_request_commits, folds, is_pull_request_merge, settle, Classifier, Draft,
};
pub use config::{CommitsConfig, PathRule, Rule};
pub use packed::{Changes, PackedDraft, Packer};
pub use version::{prerelease_number, suggest, Bump, BumpLevel, VersionRules};

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

    /// The category a config names: a built-in name, or a custom one.
    pub fn from_name(name: &str) -> Category {
        Category::BUILT_IN
            .iter()
            .find(|c| c.as_str() == name)
            .cloned()
            .unwrap_or_else(|| Category::Custom(name.to_string()))
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
