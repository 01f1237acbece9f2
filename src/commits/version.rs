//! The next SemVer version the changes call for, and the reason in words.

use semver::{Prerelease, Version};
use serde::Serialize;

use super::{Category, Change};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BumpLevel {
    Patch,
    Minor,
    Major,
}

/// The suggested version with its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Bump {
    pub level: BumpLevel,
    pub previous: Option<String>,
    pub next: String,
    pub reason: String,
}

/// breaking → major, feature → minor, otherwise patch; `0.1.0` without a previous version.
pub fn suggest(previous: Option<&Version>, changes: &[Change]) -> Bump {
    let counted = |c: &&Change| !matches!(c.category, Category::Reverted | Category::Skipped);
    let breaking: Vec<&Change> = changes
        .iter()
        .filter(counted)
        .filter(|c| c.breaking)
        .collect();
    let features: Vec<&Change> = changes
        .iter()
        .filter(counted)
        .filter(|c| c.category == Category::Features)
        .collect();
    let (level, because) = if !breaking.is_empty() {
        (BumpLevel::Major, describe(&breaking, "breaking change"))
    } else if !features.is_empty() {
        (BumpLevel::Minor, describe(&features, "feature"))
    } else {
        (
            BumpLevel::Patch,
            "no breaking changes or features".to_string(),
        )
    };
    let Some(previous) = previous else {
        let next = Version::new(0, 1, 0);
        return Bump {
            level,
            previous: None,
            next: next.to_string(),
            reason: format!("no previous release tag → {next}"),
        };
    };
    let mut next = match level {
        BumpLevel::Major => Version::new(previous.major + 1, 0, 0),
        BumpLevel::Minor => Version::new(previous.major, previous.minor + 1, 0),
        BumpLevel::Patch => Version::new(previous.major, previous.minor, previous.patch + 1),
    };
    if !previous.pre.is_empty() {
        // A prerelease's final version is the release itself.
        next = Version {
            pre: Prerelease::EMPTY,
            ..previous.clone()
        };
    }
    let level_name = match level {
        BumpLevel::Major => "major",
        BumpLevel::Minor => "minor",
        BumpLevel::Patch => "patch",
    };
    Bump {
        level,
        previous: Some(previous.to_string()),
        next: next.to_string(),
        reason: format!("{because} → {level_name}: {previous} → {next}"),
    }
}

fn describe(changes: &[&Change], noun: &str) -> String {
    let ids: Vec<&str> = changes
        .iter()
        .take(3)
        .map(|c| c.short_id.as_str())
        .collect();
    let more = if changes.len() > 3 {
        format!(", and {} more", changes.len() - 3)
    } else {
        String::new()
    };
    let plural = if changes.len() == 1 { "" } else { "s" };
    format!(
        "{} {noun}{plural} ({}{more})",
        changes.len(),
        ids.join(", ")
    )
}
